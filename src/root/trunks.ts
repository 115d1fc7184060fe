/**
 * The trunk layer every call goes through: routes, limits, failover and breakers over one UAC per trunk, each in
 * its own thread so that SIP timing (retransmissions, CANCELs, reading the socket before the kernel drops
 * datagrams) holds however busy HTTP and SQLite keep the main one. The sandbox is one trunk to its handsets.
 */
import { type SipConfig, shorthandTrunk, type VoiceConfig } from "../config-slices.js";
import type { Metrics } from "../metrics/index.js";
import type { SipTraceEntry } from "../sip/trace.js";
import { startTrunkRouter, type TrunkConfig, type TrunkEvent, type TrunkLayerOptions } from "../sip/trunks/index.js";

/** The trunks calls go to: the configuration's carrier trunks, or with the sandbox on its handsets. */
export function trunkConfigs(
  carrier: TrunkConfig[] | null,
  sip: SipConfig,
  handsets: { address: string; port: number } | null,
): TrunkConfig[] {
  if (carrier) return carrier;
  if (!handsets) throw new Error("the sandbox's handsets are the trunk while SANDBOX=on");
  return [shorthandTrunk(sip, "sandbox", handsets.address, handsets.port)];
}

export interface TrunkHooks {
  metrics: Metrics;
  /** how each trunk has fared for a destination (the delivery measurement) */
  judge?: TrunkLayerOptions["judge"];
  onError: (error: unknown, context: string) => void;
  onTrunkEvent?: ((event: TrunkEvent) => void) | undefined;
  onSipTrace?: ((trunk: string, entries: SipTraceEntry[]) => void) | undefined;
}

/** The trunk layer over `trunks`, with RTP on every trunk's thread when the voice channel is on. */
export function startTrunks(sip: SipConfig, voice: VoiceConfig | null, trunks: TrunkConfig[], hooks: TrunkHooks) {
  return startTrunkRouter({
    trunks,
    routes: sip.routes,
    localAddress: sip.localAddress,
    t1Ms: sip.t1Ms,
    ...(voice ? { media: voice.media } : {}),
    onError: (error, trunk) => hooks.onError(error, `SIP trunk ${trunk}`),
    ...(hooks.judge ? { judge: hooks.judge } : {}),
    ...(sip.trace === "off"
      ? {}
      : {
          trace: sip.trace,
          onTrace:
            hooks.onSipTrace ??
            ((trunk, entries) => {
              for (const e of entries) console.error(`flashverify: SIP ${trunk} ${e.dir}\n${e.text}`);
            }),
        }),
    onEvent: (event) => {
      hooks.metrics.trunksOutOfService.set({ trunk: event.trunk }, event.type === "out_of_service" ? 1 : 0);
      (
        hooks.onTrunkEvent ??
        ((e) => console.error(`flashverify: SIP trunk ${e.trunk} is ${e.type.replace(/_/g, " ")}`))
      )(event);
    },
  });
}

/** The trunks as the startup lines and /v1 views list them. */
export function trunkTargets(trunks: TrunkConfig[]) {
  return trunks.map((t) => ({
    id: t.id,
    target: `${t.transport === "tls" ? "sips" : "sip"}:${t.host}${t.port === undefined ? "" : `:${t.port}`}`,
    transport: t.transport,
  }));
}
