/**
 * The verification lifecycle as pure functions: each takes a verification and returns the next one with the events
 * that describe the change. No I/O and no clock: the service supplies time and persists the result.
 *
 *   pending ──check ok──▶ verified
 *      │  ├──last wrong check / call failed──▶ failed
 *      │  ├──ttl passed──▶ expired
 *      │  └──cancel──▶ canceled
 */
import type { NumberPool } from "./pool.js";
import type { AttemptOutcome } from "./ports.js";
import {
  type Attempt,
  type ClientInfo,
  type DomainEvent,
  type EventType,
  FINAL_STATUSES,
  type Verification,
  type VerificationReason,
  type VerificationStatus,
} from "./types.js";

export interface Transition {
  verification: Verification;
  events: DomainEvent[];
}

function copy(v: Verification): Verification {
  return { ...v, attempts: v.attempts.map((a) => ({ ...a })) };
}

function event(
  type: EventType,
  v: Verification,
  at: number,
  data: Record<string, unknown>,
  attemptId: string | null = null,
): DomainEvent {
  return { type, verificationId: v.id, attemptId, at, data };
}

/** A new flash-call verification whose first attempt is dialing from the leased CLI. */
export function newFlashcallVerification(p: {
  id: string;
  attemptId: string;
  applicationId: string;
  phone: { e164: string; country: string };
  input: {
    reference?: string | undefined;
    metadata?: Record<string, unknown> | undefined;
    client?: ClientInfo | undefined;
  };
  pool: NumberPool;
  cliKey: string;
  /** the CLI without its code digits */
  cliPrefix: string;
  codeMac: string;
  clientTokenHash: string;
  now: number;
  settings: { flashcallTtlMs: number; verificationTtlMs: number; flashcallMaxChecks: number };
}): Verification {
  const { now, pool, settings } = p;
  const stepExpiresAt = now + settings.flashcallTtlMs;
  return {
    id: p.id,
    applicationId: p.applicationId,
    phone: p.phone.e164,
    country: p.phone.country,
    status: "pending",
    reason: null,
    reference: p.input.reference ?? null,
    metadata: p.input.metadata ?? null,
    client: p.input.client ?? null,
    clientTokenHash: p.clientTokenHash,
    maxChecks: settings.flashcallMaxChecks,
    checksUsed: 0,
    // The attacker's odds: each check guesses among the pool numbers that share the prefix the pattern shows.
    guessProbability: settings.flashcallMaxChecks / pool.codesSharing(p.cliPrefix),
    verifiedCallerId: null,
    createdAt: now,
    updatedAt: now,
    // With one step, the verification lives as long as its flash call's code, within the overall cap.
    expiresAt: Math.min(now + settings.verificationTtlMs, stepExpiresAt),
    endedAt: null,
    version: 1,
    attempts: [
      {
        id: p.attemptId,
        verificationId: p.id,
        seq: 1,
        channel: "flashcall",
        // Stored as dialing in the creating transaction: the INVITE goes out right after it commits.
        status: "dialing",
        reason: null,
        sipCode: null,
        poolId: pool.id,
        cliKey: p.cliKey,
        cliPrefix: p.cliPrefix,
        codeLength: pool.codeLength,
        codeMac: p.codeMac,
        createdAt: now,
        dialedAt: now,
        ringingAt: null,
        endedAt: null,
        expiresAt: stepExpiresAt,
      },
    ],
  };
}

export function isFinal(v: Verification): boolean {
  return FINAL_STATUSES.has(v.status);
}

/** Attempts whose channel work may still be under way. */
export function liveAttempts(v: Verification): Attempt[] {
  return v.attempts.filter((a) => a.status === "dialing" || a.status === "ringing");
}

/** The events of a newly created verification (its first attempt is already dialing). */
export function startedEvents(v: Verification): DomainEvent[] {
  const events = [
    event("verification.started", v, v.createdAt, { phone: v.phone, channel: "flashcall", expires_at: v.expiresAt }),
  ];
  for (const a of v.attempts) {
    events.push(event("attempt.dialing", v, a.dialedAt ?? a.createdAt, { channel: a.channel, seq: a.seq }, a.id));
  }
  return events;
}

function end(v: Verification, status: VerificationStatus, reason: VerificationReason | null, at: number): DomainEvent {
  v.status = status;
  v.reason = reason;
  v.endedAt = at;
  v.updatedAt = at;
  v.version += 1;
  const type = `verification.${status}` as EventType;
  return event(type, v, at, reason === null ? {} : { reason });
}

export function markRinging(current: Verification, attemptId: string, at: number): Transition | undefined {
  const v = copy(current);
  const attempt = v.attempts.find((a) => a.id === attemptId);
  if (attempt?.status !== "dialing") return undefined;
  attempt.status = "ringing";
  attempt.ringingAt = at;
  v.updatedAt = at;
  v.version += 1;
  return { verification: v, events: [event("attempt.ringing", v, at, { channel: attempt.channel }, attempt.id)] };
}

/**
 * The channel finished an attempt. A call that never rang fails the verification (there is no other step yet);
 * a call that rang leaves it pending until a check or the TTL decides.
 */
export function markAttemptEnded(
  current: Verification,
  attemptId: string,
  outcome: AttemptOutcome,
): Transition | undefined {
  const v = copy(current);
  const attempt = v.attempts.find((a) => a.id === attemptId);
  if (!attempt || attempt.endedAt !== null) return undefined;
  attempt.endedAt = outcome.at;
  attempt.reason = outcome.reason;
  attempt.sipCode = outcome.sipCode;
  attempt.status = outcome.delivered ? "delivered" : "failed";
  v.updatedAt = outcome.at;
  v.version += 1;
  const data = { channel: attempt.channel, reason: outcome.reason, sip_code: outcome.sipCode };
  const events = [event(outcome.delivered ? "attempt.delivered" : "attempt.failed", v, outcome.at, data, attempt.id)];
  // A verification already past its expiry (the sweep has not reached it yet) ends as expired, not failed.
  const overdue = expire(v, outcome.at);
  if (overdue) return { verification: overdue.verification, events: [...events, ...overdue.events] };
  if (!outcome.delivered && v.status === "pending") {
    const ended = end(v, "failed", "attempt_failed", outcome.at);
    ended.data.attempt_reason = outcome.reason;
    events.push(ended);
  }
  return { verification: v, events };
}

/** Counts one check. `matched` comes from the constant-time comparison; `reported` is stored only on success. */
export function applyCheck(current: Verification, matched: boolean, reported: string, at: number): Transition {
  const v = copy(current);
  v.checksUsed += 1;
  v.updatedAt = at;
  v.version += 1;
  if (matched) {
    v.verifiedCallerId = reported;
    return { verification: v, events: [end(v, "verified", null, at)] };
  }
  if (v.checksUsed >= v.maxChecks) return { verification: v, events: [end(v, "failed", "max_checks", at)] };
  return { verification: v, events: [] };
}

/**
 * After a restart, attempts the previous process left in flight have no call behind them any more. One that rang
 * showed its CLI, so it counts as delivered; one still dialing may or may not have reached the phone. Either way
 * the verification stays pending: a user who saw the call can still check it, and the TTL settles the rest.
 */
export function markInterrupted(current: Verification, at: number): Transition | undefined {
  const live = liveAttempts(current);
  if (live.length === 0) return undefined;
  const v = copy(current);
  const events: DomainEvent[] = [];
  for (const attempt of liveAttempts(v)) {
    const delivered = attempt.status === "ringing";
    attempt.status = delivered ? "delivered" : "failed";
    attempt.reason = "interrupted";
    attempt.endedAt = at;
    const data = { channel: attempt.channel, reason: "interrupted", sip_code: null };
    events.push(event(delivered ? "attempt.delivered" : "attempt.failed", v, at, data, attempt.id));
  }
  v.updatedAt = at;
  v.version += 1;
  return { verification: v, events };
}

export function expire(current: Verification, at: number): Transition | undefined {
  if (isFinal(current) || at < current.expiresAt) return undefined;
  const v = copy(current);
  return { verification: v, events: [end(v, "expired", "ttl", current.expiresAt)] };
}

export function cancel(current: Verification, at: number): Transition | undefined {
  if (isFinal(current)) return undefined;
  // Past its expiry it has already ended, whether or not the sweep has recorded that yet.
  if (at >= current.expiresAt) return expire(current, at);
  const v = copy(current);
  return { verification: v, events: [end(v, "canceled", "canceled_by_api", at)] };
}

export function attemptsRemaining(v: Verification): number {
  return v.status === "pending" ? Math.max(0, v.maxChecks - v.checksUsed) : 0;
}
