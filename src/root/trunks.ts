/**
 * The trunk layer every call goes through: routes, limits, failover and breakers over one UAC per trunk, each in
 * its own thread so that SIP timing (retransmissions, CANCELs, reading the socket before the kernel drops
 * datagrams) holds however busy HTTP and SQLite keep the main one. The sandbox is one trunk to its handsets.
 */
import { voiceEnabled } from "../channels/voice/index.js";
import { type Config, shorthandTrunk } from "../config.js";
import type { Metrics } from "../metrics/index.js";
import type { SipTraceEntry } from "../sip/trace.js";
import { startTrunkRouter, type TrunkConfig, type TrunkEvent, type TrunkLayerOptions } from "../sip/trunks/index.js";

/** The trunks calls go to: the configuration's carrier trunks, or with the sandbox on its handsets. */
export function trunkConfigs(config: Config, handsets: { address: string; port: number } | null): TrunkConfig[] {
  if (config.trunks) return config.trunks;
  if (!handsets) throw new Error("the sandbox's handsets are the trunk while SANDBOX=on");
  return [shorthandTrunk(config, "sandbox", handsets.address, handsets.port)];
}

export interface TrunkHooks {
  metrics: Metrics;
  /** how each trunk has fared for a destination (the delivery measurement) */
  judge?: TrunkLayerOptions["judge"];
  onError: (error: unknown, context: string) => void;
  onTrunkEvent?: ((event: TrunkEvent) => void) | undefined;
  onSipTrace?: ((trunk: string, entries: SipTraceEntry[]) => void) | undefined;
}

export function startTrunks(config: Config, trunks: TrunkConfig[], sandbox: boolean, hooks: TrunkHooks) {
  return startTrunkRouter({
    trunks,
    routes: sandbox ? [] : config.SIP_ROUTES,
    localAddress: config.SIP_LOCAL_ADDRESS ?? (sandbox ? "127.0.0.1" : "0.0.0.0"),
    t1Ms: config.SIP_T1_MS,
    ...(voiceEnabled(config, sandbox)
      ? {
          media: {
            ports: config.VOICE_RTP_PORTS,
            ...(config.VOICE_RTP_ADDRESS ? { address: config.VOICE_RTP_ADDRESS } : {}),
            ...(config.VOICE_RTP_PUBLIC_ADDRESS ? { advertisedAddress: config.VOICE_RTP_PUBLIC_ADDRESS } : {}),
            ...(config.VOICE_RTP_PRIORITY === undefined ? {} : { priority: config.VOICE_RTP_PRIORITY }),
          },
        }
      : {}),
    onError: (error, trunk) => hooks.onError(error, `SIP trunk ${trunk}`),
    ...(hooks.judge ? { judge: hooks.judge } : {}),
    ...(config.SIP_TRACE === "off"
      ? {}
      : {
          trace: config.SIP_TRACE === "full" ? "full" : "redacted",
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
