/**
 * The trunk layer from its configuration: one UAC per trunk (each in its own worker thread by default, with the
 * trunk's transport, proxy and credentials), the trunk's policy, and the router over them. Key and certificate
 * files are read here, once, at start.
 *
 * @example
 * const router = await startTrunkRouter({ trunks: config.SIP_TRUNKS, routes: config.SIP_ROUTES,
 *   localAddress: "0.0.0.0", t1Ms: 500 });
 * router.placeCall({ to: "+447400123456", cli: "+442079412345", ringTimeMs: 1500, maxDialMs: 20000 });
 */
import { readFileSync } from "node:fs";
import { createShakenSigner } from "../stir-shaken.js";
import type { SipTraceEntry, SipTraceMode } from "../trace.js";
import type { FlashCaller, SipUacOptions } from "../types.js";
import { startSipUacWorker } from "../uac-worker.js";
import { TrunkRouter, type TrunkRouterOptions } from "./router.js";
import type { RouteConfig, TrunkConfig } from "./schema.js";
import { Trunk, type TrunkEvent, type TrunkPolicy } from "./trunk.js";

export { type FailedLeg, type RoutedCall, type RoutedCallRecord, TrunkRouter } from "./router.js";
export { type RouteConfig, RouteSchema, type TrunkConfig, TrunkSchema } from "./schema.js";
export { Trunk, type TrunkEvent, type TrunkPolicy } from "./trunk.js";

export interface TrunkLayerOptions {
  trunks: readonly TrunkConfig[];
  routes?: readonly RouteConfig[];
  /** Our SIP address for trunks that do not name their own. */
  localAddress: string;
  /** RFC 3261 T1 of every trunk's UAC. */
  t1Ms: number;
  /** A trunk's UAC thread died, or an INVITE could not be built (a bad key): not call outcomes. */
  onError?: (error: unknown, trunk: string) => void;
  /** A trunk went out of service or came back. */
  onEvent?: (event: TrunkEvent) => void;
  /** RTP for voice calls (every trunk's UAC, bound at the trunk's local address unless it names one). Default none. */
  media?: SipUacOptions["media"];
  /** Trace every trunk's SIP messages (SIP_TRACE): `redacted` or `full`; default none. */
  trace?: SipTraceMode | undefined;
  /** Receives each trunk's trace in the batches its thread sends. Must not throw. */
  onTrace?: (trunk: string, entries: SipTraceEntry[]) => void;
  /** How each trunk has fared for a destination (measured delivery): see TrunkRouterOptions.judge. Default none. */
  judge?: TrunkRouterOptions["judge"];
  /** Starts one trunk's UAC. Default: a worker thread (startSipUacWorker). */
  startCaller?: (options: Omit<SipUacOptions, "now">, trunk: string) => Promise<FlashCaller>;
}

/**
 * Starts every trunk's UAC and returns the router. If one fails to start, those already started are closed.
 * @throws Error naming the trunk and the field: an unreadable key or certificate file, a bind error
 */
export async function startTrunkRouter(options: TrunkLayerOptions): Promise<TrunkRouter> {
  const now = performance.now.bind(performance);
  const started: Trunk[] = [];
  const start =
    options.startCaller ??
    ((uacOptions, trunk) => {
      const { trace, onTrace } = options;
      return startSipUacWorker({
        ...uacOptions,
        onError: (error) => options.onError?.(error, trunk),
        ...(trace && onTrace ? { trace, onTrace: (entries: SipTraceEntry[]) => onTrace(trunk, entries) } : {}),
      });
    });
  try {
    for (const config of options.trunks) {
      const policy = trunkPolicy(config);
      const caller = await start(uacOptions(config, options), config.id);
      started.push(new Trunk(caller, policy, now, options.onEvent));
    }
  } catch (error) {
    await Promise.allSettled(started.map((t) => t.close()));
    throw error;
  }
  return new TrunkRouter(started, {
    routes: options.routes ?? [],
    now,
    ...(options.onError ? { onError: options.onError } : {}),
    ...(options.judge ? { judge: options.judge } : {}),
  });
}

/** What the trunk's UAC is told: where, how, as whom. */
export function uacOptions(
  config: TrunkConfig,
  defaults: { localAddress: string; t1Ms: number; media?: SipUacOptions["media"] },
) {
  const options: Omit<SipUacOptions, "now"> = {
    localAddress: config.local_address ?? defaults.localAddress,
    localPort: config.local_port,
    target: config.port === undefined ? { host: config.host } : { host: config.host, port: config.port },
    transport: config.transport,
    t1Ms: defaults.t1Ms,
  };
  if (defaults.media) options.media = { ...defaults.media, address: defaults.media.address ?? options.localAddress };
  if (config.domain) options.domain = config.domain;
  if (config.outbound_proxy) options.outboundProxy = config.outbound_proxy;
  if (config.auth) options.credentials = config.auth;
  if (config.invite_timeout_ms !== undefined) options.timerBMs = config.invite_timeout_ms;
  if (config.tls) {
    const file = (field: "ca_file" | "cert_file" | "key_file") => {
      const path = config.tls?.[field];
      return path === undefined ? undefined : readConfiguredFile(config.id, `tls.${field}`, path);
    };
    options.tls = { rejectUnauthorized: config.tls.reject_unauthorized };
    const ca = file("ca_file");
    const cert = file("cert_file");
    const key = file("key_file");
    if (ca) options.tls.ca = ca;
    if (cert) options.tls.cert = cert;
    if (key) options.tls.key = key;
    if (config.tls.servername) options.tls.servername = config.tls.servername;
  }
  return options;
}

/** How the trunk writes numbers and headers, its limits, and its STIR/SHAKEN signer (the key imported once). */
export function trunkPolicy(config: TrunkConfig): TrunkPolicy {
  let signer: TrunkPolicy["signer"];
  if (config.stir_shaken) {
    const pem = readConfiguredFile(config.id, "stir_shaken.key_file", config.stir_shaken.key_file);
    try {
      signer = createShakenSigner({
        privateKeyPem: pem,
        x5u: config.stir_shaken.x5u,
        attest: config.stir_shaken.attest,
      });
    } catch (error) {
      throw new Error(`SIP_TRUNKS "${config.id}" stir_shaken.key_file: ${(error as Error).message}`);
    }
  }
  return {
    id: config.id,
    cliFormat: config.cli_format,
    techPrefix: config.tech_prefix,
    destinationFormat: config.destination_format,
    destinationTechPrefix: config.destination_tech_prefix,
    pAssertedIdentity: config.p_asserted_identity,
    privacy: config.privacy,
    headers: Object.entries(config.headers),
    signer,
    maxCps: config.max_cps,
    burst: config.burst,
    maxConcurrent: config.max_concurrent,
    queueSize: config.queue_size,
    queueTimeoutMs: config.queue_timeout_ms,
    breakerFailures: config.breaker_failures,
    probeIntervalMs: config.probe_interval_ms,
    maxRetryAfterMs: config.max_retry_after_s * 1000,
  };
}

function readConfiguredFile(trunk: string, field: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(`SIP_TRUNKS "${trunk}" ${field}: cannot read ${path}: ${(error as Error).message}`);
  }
}
