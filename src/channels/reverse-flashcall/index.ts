/**
 * The reverse flash call: the phone calls a number of the inbound pool and its caller ID is the proof. Its steps send
 * nothing (the number is in the start's answer); what this channel runs is the SIP listener the trunks deliver those
 * calls to, each one matched to the live verification it proves (src/core/reverse-calls.ts) and rejected before
 * answer, so it costs the caller nothing.
 *
 * Trust: only INVITEs from the trunks' addresses are looked at (others: 403); an Identity header is verified against
 * the operator's trusted certificates (a bad one: RFC 8224's 436/437/438) and its attestation goes with the call.
 */
import { lookup } from "node:dns/promises";
import { readFileSync } from "node:fs";
import { BlockList, isIP } from "node:net";
import { InboundPool } from "../../core/inbound-pool.js";
import type { MessageChannel, MessageProgress, ReverseAttemptRef } from "../../core/ports.js";
import type { AttestationPolicy, InboundLimits, ReverseCalls } from "../../core/reverse-calls.js";
import type { LimitRule } from "../../fraud/limit-rules.js";
import type { Limiter } from "../../fraud/limiter.js";
import type { InboundAnswer } from "../../sip/inbound/listener.js";
import { type InboundCallRequest, InboundListenerThread } from "../../sip/inbound/listener-thread.js";
import { ShakenVerifier } from "../../sip/shaken-verifier.js";
import { callerNumber, countryOf, dialledNumber } from "./call-parties.js";
import type { InboundConfig } from "./config.js";

export { SANDBOX_INBOUND_NUMBERS } from "./config.js";

const DEFAULT_LIMITS: Record<"caller" | "number", LimitRule> = {
  caller: { points: 10, durationSec: 600 },
  number: { points: 6000, durationSec: 60 },
};

const PHRASES: Record<number, string> = {
  403: "Forbidden",
  404: "Not Found",
  480: "Temporarily Unavailable",
  486: "Busy Here",
  487: "Request Terminated",
  603: "Decline",
  436: "Bad Identity Info",
  437: "Unsupported Credential",
  438: "Invalid Identity Header",
};

/** What the listener reports for metrics: the match's outcome, or why the call went no further. */
export type InboundCallOutcome =
  | Awaited<ReturnType<ReverseCalls["answer"]>>["outcome"]
  | "untrusted_source"
  | "invalid_identity"
  | "unreadable";

export interface ListenDeps {
  calls: ReverseCalls;
  /** the reverse flash calls already waiting (after a restart): their numbers stay theirs */
  held: readonly ReverseAttemptRef[];
  onOutcome?: (outcome: InboundCallOutcome) => void;
  onError?: (error: unknown) => void;
  t1Ms?: number;
}

export class ReverseFlashcallChannel implements MessageChannel {
  readonly pool: InboundPool;
  private listener: InboundListenerThread | null = null;

  constructor(private readonly config: InboundConfig) {
    this.pool = new InboundPool({ numbers: config.numbers, mode: config.mode, leaseFrom: config.leaseFrom });
  }

  /** Where the trunks deliver calls; null before `listen`. */
  get local(): { address: string; port: number } | null {
    return this.listener?.local ?? null;
  }

  /** A reverse flash call's steps send nothing: this is only reached through a bug, and says so. */
  send(_message: unknown, progress: MessageProgress): void {
    progress.ended({ at: Date.now(), delivered: false, reason: "network_error", detail: "nothing to send" });
  }

  /**
   * What the matching of calls needs from the configuration: the attestation each application's verifying calls
   * need, and limits per caller and per dialled number on the fraud controls' counters.
   */
  policies(limiter: Limiter): {
    attestationPolicy: (applicationId: string) => AttestationPolicy;
    limits: InboundLimits;
  } {
    const { attestationApplications: perApplication, attestation: fallback } = this.config;
    const rules = { ...DEFAULT_LIMITS, ...this.config.limits };
    return {
      attestationPolicy: (applicationId) => perApplication[applicationId] ?? fallback,
      limits: {
        async allow(scope, key) {
          const rule = rules[scope];
          return rule === null ? true : (await limiter.consume(`inbound.${scope}`, rule, key)).allowed;
        },
      },
    };
  }

  /** Starts the SIP listener; calls from the trunks go to `deps.calls`. */
  async listen(deps: ListenDeps): Promise<void> {
    for (const waiting of deps.held) this.pool.hold(waiting.dial, waiting);
    const trusted = await trustedAddresses(this.config.trustedSources);
    const { shakenTrustFile: file, allowed, rejectCode, listener } = this.config;
    const verifier = file ? new ShakenVerifier({ trusted: [readFileSync(file, "utf8")], allowed }) : null;
    const reject: InboundAnswer = { status: rejectCode, phrase: PHRASES[rejectCode] ?? "Decline" };
    const outcome = (o: InboundCallOutcome) => deps.onOutcome?.(o);
    const hint = countryOf(this.pool.sample);
    // Parsing a number for its country costs tens of µs, per call; the dialled number is always one of the pool's.
    const countries = new Map<string, string>();
    const countryOfPoolNumber = (n: string) => {
      const known = countries.get(n);
      if (known !== undefined) return known;
      const country = countryOf(n);
      countries.set(n, country);
      return country;
    };
    const onInvite = async ({ message }: InboundCallRequest): Promise<InboundAnswer> => {
      const dialled = dialledNumber(message, this.pool, hint);
      if (!dialled) {
        outcome("unreadable");
        return { status: 404, phrase: PHRASES[404] as string };
      }
      const caller = callerNumber(message, () => countryOfPoolNumber(dialled));
      // The limits come first: a call over them costs no certificate fetch and no lookup.
      if (!(await deps.calls.admit(dialled, caller))) {
        outcome("limited");
        return reject;
      }
      let attestation: "A" | "B" | "C" | null = null;
      // Without trusted certificates an Identity cannot be checked, so it attests nothing (it is not refused).
      if (message.identity && verifier) {
        const checked = await verifier.verify(message.identity, { orig: caller ?? "", dest: dialled });
        if (!checked.ok) {
          outcome("invalid_identity");
          return { status: checked.sipCode, phrase: PHRASES[checked.sipCode] as string };
        }
        attestation = checked.attest;
      }
      const answered = await deps.calls.match({ dialled, caller, attestation, sipCode: rejectCode });
      outcome(answered.outcome);
      return reject;
    };
    // Its own thread: sockets, parsing, transactions and retransmissions cost this thread nothing.
    this.listener = await InboundListenerThread.start({
      address: listener.address,
      port: listener.port,
      transports: listener.transports,
      tls: listener.tls
        ? {
            port: listener.tls.port,
            cert: readFileSync(listener.tls.certFile, "utf8"),
            key: readFileSync(listener.tls.keyFile, "utf8"),
          }
        : undefined,
      trusted,
      onInvite,
      onUntrusted: () => outcome("untrusted_source"),
      ...(deps.onError ? { onError: deps.onError } : {}),
      ...(deps.t1Ms ? { t1Ms: deps.t1Ms } : {}),
    });
  }

  /** Where TLS connections are taken; null without TLS or before `listen`. */
  get tlsPort(): number | null {
    return this.listener?.tlsPort ?? null;
  }

  async close(): Promise<void> {
    await this.listener?.close();
    this.listener = null;
  }
}

/** The channel, when the configuration has one (INBOUND_NUMBERS, or the sandbox's numbers and virtual carrier). */
export function createReverseFlashcallChannel(config: InboundConfig | null): ReverseFlashcallChannel | null {
  return config && new ReverseFlashcallChannel(config);
}

/** IPs and CIDRs as given; a name stands for the addresses DNS gives it now. */
async function trustedAddresses(sources: readonly string[]): Promise<BlockList> {
  const list = new BlockList();
  for (const source of sources) {
    const [address = "", bits] = source.split("/");
    const family = isIP(address) === 6 ? "ipv6" : "ipv4";
    if (isIP(address) !== 0) {
      if (bits === undefined) list.addAddress(address, family);
      else list.addSubnet(address, Number(bits), family);
      continue;
    }
    for (const found of await lookup(address, { all: true })) {
      list.addAddress(found.address, found.family === 6 ? "ipv6" : "ipv4");
    }
  }
  return list;
}
