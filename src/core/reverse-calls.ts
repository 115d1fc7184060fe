/**
 * The reverse flash call's answer side: a call arrived from a trunk, to a number of the inbound pool. It verifies the
 * live verification of the caller's phone waiting on that number; on a number leased to one verification, any other
 * caller is a wrong answer to it and counts as a failed check. Whatever happens, the SIP side rejects the call
 * before answer (the caller pays nothing) with the same code, so the caller learns nothing of what it matched.
 *
 * Caller IDs can be spoofed: the SIP side only passes on calls from the configured trunks' addresses, with the
 * attestation of a verified STIR/SHAKEN Identity when there was one, and each application says what attestation it
 * needs. Calls are rate-limited per caller and per dialled number before anything is looked up.
 */
import type { Change } from "./change.js";
import type { Result } from "./errors.js";
import type { InboundPool } from "./inbound-pool.js";
import type { Clock, FraudGuard, Store } from "./ports.js";
import type { Verification } from "./types.js";
import { applyCheck, isFinal, verifyByCall } from "./verification.js";
import type { Updated } from "./verification-updater.js";

/** What a verified STIR/SHAKEN Identity attested: A full, B partial, C gateway; null when none was verified. */
export type Attestation = "A" | "B" | "C";

/** The attestation an application requires of the call that verifies: `A`, `A` or `B`, or none at all. */
export type AttestationPolicy = "A" | "B" | "none";

export interface InboundCall {
  /** E.164 number the caller dialled (Request-URI or To) */
  dialled: string;
  /** E.164 caller ID (P-Asserted-Identity from the trunk, else From); null when withheld or unreadable */
  caller: string | null;
  /** what a verified Identity header attested; null when there was none */
  attestation: Attestation | null;
  /** the final code the call is rejected with, recorded on the attempt that verifies */
  sipCode: number;
}

export type InboundOutcome =
  /** the caller's verification waiting on the number is verified */
  | "verified"
  /** the number is leased to one verification and another phone called: a failed check of it */
  | "wrong_caller"
  /** the caller's verification needs a stronger STIR/SHAKEN attestation than the call carried */
  | "attestation_required"
  /** no live verification of this caller waits on this number */
  | "no_match"
  /** the caller or the number is over its rate limit: nothing was looked up */
  | "limited";

export interface InboundLimits {
  /** consumes one call of `key`; false once the window's calls are spent */
  allow(scope: "caller" | "number", key: string): Promise<boolean>;
}

export interface ReverseCallsDeps {
  store: Pick<Store, "liveReverseAttempts">;
  clock: Clock;
  inbound: InboundPool;
  update: (id: string, change: (v: Verification) => Change) => Promise<Result<Updated>>;
  attestationPolicy: (applicationId: string) => AttestationPolicy;
  limits?: InboundLimits | undefined;
  fraud?: FraudGuard | undefined;
  /**
   * True when this process opened every live reverse flash call (one server per database, its pool restored from
   * the store at start): the pool's holders are then the live attempts, and a call is matched without a query. With
   * several nodes on one database another node's verification is only in the store, so the store is asked.
   */
  poolIsComplete?: boolean | undefined;
}

const MEETS: Record<AttestationPolicy, (a: Attestation | null) => boolean> = {
  A: (a) => a === "A",
  B: (a) => a === "A" || a === "B",
  none: () => true,
};

export class ReverseCalls {
  constructor(private readonly deps: ReverseCallsDeps) {}

  /**
   * Takes one call of the caller's and the dialled number's limits: false once either is spent. The SIP side asks
   * before it does any work for the call (an Identity's certificate is fetched from the x5u the call names).
   */
  async admit(dialled: string, caller: string | null): Promise<boolean> {
    const { limits } = this.deps;
    if (!limits) return true;
    return (await limits.allow("caller", caller ?? "anonymous")) && (await limits.allow("number", dialled));
  }

  /** Matches an inbound call to the live verifications waiting on its number and applies what it proves. */
  async answer(call: InboundCall): Promise<{ outcome: InboundOutcome; verificationIds: string[] }> {
    if (!(await this.admit(call.dialled, call.caller))) return { outcome: "limited", verificationIds: [] };
    return this.match(call);
  }

  /** `answer` for a call already admitted. */
  async match(call: InboundCall): Promise<{ outcome: InboundOutcome; verificationIds: string[] }> {
    const { clock, inbound } = this.deps;
    const now = clock.now();
    const mine = call.caller === null ? [] : await this.waiting(now, call.dialled, call.caller);
    if (mine.length > 0) {
      const results = await Promise.all(mine.map((w) => this.verify(w.verificationId, call)));
      const verified = mine.filter((_, i) => results[i] === "verified").map((w) => w.verificationId);
      if (verified.length > 0) return { outcome: "verified", verificationIds: verified };
      if (results.includes("attestation_required")) return { outcome: "attestation_required", verificationIds: [] };
    }
    if (!inbound.leased || mine.length > 0) return { outcome: "no_match", verificationIds: [] };
    // Several holders of a leased number (processes that leased it at once) share it: no one's wrong answer.
    const holders = await this.waiting(now, call.dialled);
    const holder = holders[0];
    if (holders.length === 1 && holder) {
      const counted = await this.deps.update(holder.verificationId, (v) => wrongCaller(v, call, clock.now()));
      if (counted.ok && counted.value.saved)
        return { outcome: "wrong_caller", verificationIds: [holder.verificationId] };
    }
    return { outcome: "no_match", verificationIds: [] };
  }

  /** The live reverse flash calls waiting on `dial` (of `phone`'s verifications only, when given). */
  private async waiting(now: number, dial: string, phone?: string): Promise<{ verificationId: string }[]> {
    if (!this.deps.poolIsComplete) return this.deps.store.liveReverseAttempts(now, dial, phone);
    const holders = this.deps.inbound.holdersOf(dial, now);
    return phone === undefined ? holders : holders.filter((h) => h.phone === phone);
  }

  private async verify(id: string, call: InboundCall): Promise<InboundOutcome> {
    const { clock, fraud } = this.deps;
    const seen: { outcome: InboundOutcome } = { outcome: "no_match" };
    const result = await this.deps.update(id, (v) => {
      const attempt = waitingAttempt(v, call.dialled, clock.now());
      if (!attempt || v.phone !== call.caller) return undefined;
      if (!MEETS[this.deps.attestationPolicy(v.applicationId)](call.attestation)) {
        seen.outcome = "attestation_required";
        return undefined;
      }
      seen.outcome = "verified";
      return verifyByCall(v, attempt.id, { caller: call.caller, sipCode: call.sipCode, at: clock.now() });
    });
    const saved = result.ok ? result.value.saved : undefined;
    if (saved?.status === "verified") {
      fraud?.recordVerified(saved);
      return "verified";
    }
    return seen.outcome === "verified" ? "no_match" : seen.outcome;
  }
}

/** The verification's reverse flash call while it still waits for the person's call at `now`; undefined otherwise. */
export function awaitedReverseCall(v: Verification, now: number) {
  const attempt = v.attempts.at(-1);
  if (isFinal(v) || now >= v.expiresAt) return undefined;
  if (attempt?.channel !== "reverse_flashcall" || attempt.status !== "sent") return undefined;
  return now < attempt.expiresAt ? attempt : undefined;
}

/** The verification's reverse flash call on `dial`, while it still waits for a call; undefined otherwise. */
function waitingAttempt(v: Verification, dial: string, now: number) {
  const attempt = awaitedReverseCall(v, now);
  return attempt?.dial === dial ? attempt : undefined;
}

/** Another phone called a number leased to `v`: one wrong answer, counted like a wrong code. */
function wrongCaller(v: Verification, call: InboundCall, now: number): Change {
  if (!waitingAttempt(v, call.dialled, now) || v.phone === call.caller) return undefined;
  return applyCheck(v, false, null, now);
}
