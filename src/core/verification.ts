/**
 * The verification lifecycle as pure functions: each takes a verification and returns the next one with the events
 * that describe the change. No I/O and no clock: the service supplies time and persists the result.
 *
 *   pending ──check ok──▶ verified
 *      │  ├──step failed for good / step timeout / "use SMS instead"──▶ pending, next step of the workflow
 *      │  ├──last wrong check / last step failed──▶ failed
 *      │  ├──ttl passed──▶ expired
 *      │  └──cancel──▶ canceled
 *
 * Opening a step needs things a pure function cannot make (a leased CLI, a fresh code), so transitions that end a
 * step say so (`stepOver`) and the service opens the next one with `openStep`.
 */
import { channelChoiceDocument } from "./channel-choice.js";
import { maskedPattern } from "./pool.js";
import type { AttemptOutcome } from "./ports.js";
import { voiceCallCost } from "./rate-card.js";
import {
  type Attempt,
  type ChannelName,
  type ClientInfo,
  type DomainEvent,
  type EventType,
  FINAL_STATUSES,
  type Refusal,
  type RiskAssessment,
  type Verification,
  type VerificationReason,
  type VerificationStatus,
  type WorkflowStep,
} from "./types.js";
import { endedForGood } from "./workflow.js";

/** Why a workflow moved to its next step. */
export type StepChange =
  | "attempt_failed"
  | "step_timeout"
  | "requested"
  | "number_type"
  | "no_email"
  /** a reverse flash call found no number of the inbound pool free for this phone */
  | "no_inbound_number";

/** A message a committed transition must hand to its channel; the code lives only here, never in storage. */
export interface PendingSend {
  attempt: Attempt;
  code: string;
}

export interface Transition {
  verification: Verification;
  events: DomainEvent[];
  /** the current step is over: the service opens the next one (or fails the verification when there is none) */
  stepOver?: StepChange;
  /** messages to send once this transition has committed */
  sends?: PendingSend[];
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

/** Who asked to verify what: the part of a new verification that comes from the request. */
export interface VerificationRequest {
  id: string;
  applicationId: string;
  phone: { e164: string; country: string };
  input: {
    reference?: string | undefined;
    metadata?: Record<string, unknown> | undefined;
    client?: ClientInfo | undefined;
  };
  clientTokenHash: string;
  now: number;
}

/** A new verification, before its first step opens (`openStep` adds the attempt and makes it version 1). */
export function newVerification(
  p: VerificationRequest & {
    workflow: WorkflowStep[];
    email: string | null;
    maxChecks: number;
    expiresAt: number;
    /** the fraud controls' assessment; `shadow_block` records the attempts as never sent */
    risk?: RiskAssessment | null;
  },
): Verification {
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
    maxChecks: p.maxChecks,
    checksUsed: 0,
    guessProbability: 0,
    risk: p.risk ?? null,
    verifiedCallerId: null,
    createdAt: p.now,
    updatedAt: p.now,
    expiresAt: p.expiresAt,
    endedAt: null,
    version: 0,
    workflow: p.workflow,
    step: 0,
    stepDeadline: null,
    email: p.email,
    attempts: [],
  };
}

/**
 * The phone called the number of its verification's reverse flash call: its attempt is delivered (the call was
 * rejected with `sipCode`, free for the caller) and the verification is verified, the caller ID recorded as earned.
 */
export function verifyByCall(
  current: Verification,
  attemptId: string,
  call: { caller: string; sipCode: number; at: number },
): Transition | undefined {
  const ended = markAttemptEnded(current, attemptId, {
    at: call.at,
    delivered: true,
    reason: "delivered",
    sipCode: call.sipCode,
  });
  if (ended?.verification.status !== "pending") return undefined;
  const checked = applyCheck(ended.verification, true, call.caller, call.at);
  return { verification: checked.verification, events: [...ended.events, ...checked.events] };
}

/**
 * Opens step `index` with its attempt. A fallback (`reason` set) says why the workflow moved on, and the code of
 * the step it leaves stops being accepted: one live code per verification.
 */
export function openStep(
  current: Verification,
  p: {
    index: number;
    attempt: Attempt;
    at: number;
    guessProbability: number;
    reason: StepChange | null;
    /** the fraud controls' `shadow_block`: the attempt is recorded as never sent and nothing will be */
    shadow?: boolean;
  },
): Transition {
  const v = copy(current);
  const { at, attempt } = p;
  const step = v.workflow[p.index] as WorkflowStep;
  const events: DomainEvent[] = [];
  if (p.reason !== null) {
    const from = v.workflow[v.step]?.channel ?? null;
    events.push(
      event("verification.fallback", v, at, { from_channel: from, to_channel: step.channel, reason: p.reason }),
    );
  }
  for (const a of v.attempts) a.expiresAt = Math.min(a.expiresAt, at);
  v.step = p.index;
  v.stepDeadline = p.index < v.workflow.length - 1 ? Math.min(at + step.timeoutMs, v.expiresAt) : null;
  const opened: Attempt = { ...attempt, expiresAt: v.stepDeadline ?? v.expiresAt };
  if (p.shadow) {
    Object.assign(opened, { status: "failed", reason: "shadow_blocked", dialedAt: null, endedAt: at, cost: null });
  }
  v.attempts.push(opened);
  v.guessProbability = Math.max(v.guessProbability, p.guessProbability);
  v.updatedAt = at;
  v.version += 1;
  if (p.shadow) {
    // The pattern (or code length) is public: the start answered with it, and the app's view of this event needs it.
    const data = { ...dialingData(attempt), reason: "shadow_blocked", sip_code: null };
    events.push(event("attempt.failed", v, at, data, attempt.id));
  } else {
    events.push(event("attempt.dialing", v, at, dialingData(attempt), attempt.id));
  }
  return { verification: v, events };
}

/** A step the destination cannot take is passed over before anything is sent (a VoIP number and a flash call). */
export function skipStep(current: Verification, p: { index: number; to: number; reason: StepChange; at: number }) {
  const from = current.workflow[p.index]?.channel ?? null;
  const to = current.workflow[p.to]?.channel ?? null;
  return event("verification.fallback", current, p.at, { from_channel: from, to_channel: to, reason: p.reason });
}

function dialingData(a: Attempt): Record<string, unknown> {
  // The masked pattern is public from the start (the app needs it to wait for the call); the code is not.
  if (a.channel === "flashcall" && a.cliPrefix !== null) {
    return { channel: a.channel, seq: a.seq, pattern: maskedPattern(a.cliPrefix, a.codeLength) };
  }
  if (a.channel === "reverse_flashcall") return { channel: a.channel, seq: a.seq, dial: a.dial ?? null };
  return { channel: a.channel, seq: a.seq, code_length: a.codeLength };
}

/** The workflow's last step ended without success, or nothing could be sent: the verification fails. */
export function failVerification(
  current: Verification,
  reason: VerificationReason,
  at: number,
  data: Record<string, unknown> = {},
): Transition {
  const v = copy(current);
  const ended = end(v, "failed", reason, at);
  Object.assign(ended.data, data);
  return { verification: v, events: [ended] };
}

export function isFinal(v: Verification): boolean {
  return FINAL_STATUSES.has(v.status);
}

/** Attempts whose channel work may still be under way. */
export function liveAttempts(v: Verification): Attempt[] {
  return v.attempts.filter((a) => a.status === "dialing" || a.status === "ringing");
}

/** The first event of a verification; its steps' events follow (see `openStep`). */
export function startedEvents(v: Verification): DomainEvent[] {
  const started: Record<string, unknown> = {
    phone: v.phone,
    country: v.country,
    channel: v.workflow[0]?.channel ?? null,
    workflow: v.workflow.map((s) => s.channel),
    expires_at: new Date(v.expiresAt).toISOString(),
  };
  if (v.risk) started.risk = v.risk.outcome;
  if (v.channelChoice) started.channel_choice = channelChoiceDocument(v.channelChoice);
  return [event("verification.started", v, v.createdAt, started)];
}

/**
 * A verification refused before anything was sent (the application's decision callback said `deny`, or the fraud
 * controls refused the start): it is created already ended, with no attempt and no CLI.
 */
export function newBlockedVerification(
  p: VerificationRequest & {
    reason: VerificationReason;
    settings: { verificationTtlMs: number; flashcallMaxChecks: number };
    workflow?: WorkflowStep[];
    /** the fraud controls' refusal, recorded on the verification and in its `verification.blocked` event */
    refusal?: Refusal;
  },
): Transition {
  const { now } = p;
  const v = newVerification({
    ...p,
    workflow: p.workflow ?? [],
    email: null,
    maxChecks: p.settings.flashcallMaxChecks,
    expiresAt: now + p.settings.verificationTtlMs,
  });
  Object.assign(v, { status: "failed", reason: p.reason, endedAt: now, version: 1 });
  const blocked: Record<string, unknown> = { reason: p.reason };
  if (p.refusal) {
    v.refusal = p.refusal;
    Object.assign(blocked, { code: p.refusal.code, message: p.refusal.message, details: p.refusal.details });
  }
  return {
    verification: v,
    events: [...startedEvents(v), event("verification.blocked", v, now, blocked)],
  };
}

function end(v: Verification, status: VerificationStatus, reason: VerificationReason | null, at: number): DomainEvent {
  v.status = status;
  v.reason = reason;
  v.endedAt = at;
  v.updatedAt = at;
  v.version += 1;
  const type = `verification.${status}` as EventType;
  // The channel of the step it ended on: which channel verified, or was the last one tried.
  const channel = v.attempts.at(-1)?.channel ?? null;
  return event(type, v, at, reason === null ? { channel } : { reason, channel });
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

/** A message provider took the message (its receipt may follow); a voice call that rang was answered. */
export function markSent(current: Verification, attemptId: string, at: number, providerIds: string[]) {
  const v = copy(current);
  const attempt = v.attempts.find((a) => a.id === attemptId);
  if (attempt?.status !== "dialing" && attempt?.status !== "ringing") return undefined;
  attempt.status = "sent";
  v.updatedAt = at;
  v.version += 1;
  const data = { channel: attempt.channel, provider_ids: providerIds };
  return { verification: v, events: [event("attempt.sent", v, at, data, attempt.id)] };
}

/**
 * The channel finished an attempt. When the attempt of the current step failed for good (a call that never rang,
 * a message refused or undeliverable) the step is over at once (`stepOver`); a call that rang or a message that may
 * still arrive leaves the verification pending until a check, the step's timeout or the TTL decides.
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
  attempt.trunkId = outcome.trunkId ?? null;
  attempt.invitedAt = outcome.invitedAt ?? null;
  attempt.reasonHeader = outcome.reasonHeader ?? null;
  // A receipt arriving after an erasure keeps what the provider said out of the record.
  attempt.detail = v.redaction ? null : (outcome.detail ?? null);
  attempt.status = outcome.delivered ? "delivered" : "failed";
  // A voice call is priced per started minute of what it lasted (a call never answered costs nothing).
  if (attempt.channel === "voice") attempt.cost = voiceCallCost(v.country, outcome.answeredMs ?? 0);
  v.updatedAt = outcome.at;
  v.version += 1;
  const data: Record<string, unknown> = { channel: attempt.channel, reason: outcome.reason };
  if (attempt.channel === "flashcall" || attempt.channel === "reverse_flashcall") data.sip_code = outcome.sipCode;
  if (attempt.trunkId !== null) data.trunk = attempt.trunkId;
  if (attempt.reasonHeader !== null) data.reason_header = attempt.reasonHeader;
  if (attempt.detail !== null) data.detail = attempt.detail;
  if (outcome.failedOver?.length) {
    data.failed_over = outcome.failedOver.map((f) => ({ trunk: f.trunk, reason: f.reason, sip_code: f.sipCode }));
  }
  const events = [event(outcome.delivered ? "attempt.delivered" : "attempt.failed", v, outcome.at, data, attempt.id)];
  // A verification already past its expiry (the timer has not fired yet) ends as expired, not failed.
  const overdue = expire(v, outcome.at);
  if (overdue) return { verification: overdue.verification, events: [...events, ...overdue.events] };
  const current_ = v.attempts.at(-1)?.id === attempt.id;
  if (v.status === "pending" && current_ && endedForGood(attempt.channel, outcome.delivered, outcome.reason)) {
    return { verification: v, events, stepOver: "attempt_failed" };
  }
  return { verification: v, events };
}

/**
 * Counts one check. `matched` comes from the constant-time comparison; `reported` (the caller ID of a flash call,
 * null for a message code) is stored only on success.
 */
export function applyCheck(current: Verification, matched: boolean, reported: string | null, at: number): Transition {
  const v = copy(current);
  v.checksUsed += 1;
  v.updatedAt = at;
  v.version += 1;
  if (matched) {
    v.verifiedCallerId = reported;
    const verified = end(v, "verified", null, at);
    // Earned now: the caller ID the user reported, and the only event that ever carries one.
    if (reported !== null) verified.data.caller_id = reported;
    return { verification: v, events: [verified] };
  }
  if (v.checksUsed >= v.maxChecks) return { verification: v, events: [end(v, "failed", "max_checks", at)] };
  return { verification: v, events: [] };
}

/**
 * After a restart, attempts the previous process left in flight have no call behind them any more. One that rang
 * showed its CLI, so it counts as delivered; one still dialing may or may not have reached the phone. Either way
 * the verification stays pending: a user who saw the call can still check it, and the TTL settles the rest.
 */
export function markInterrupted(
  current: Verification,
  at: number,
  which: (a: Attempt) => boolean = () => true,
): Transition | undefined {
  const live = liveAttempts(current).filter(which);
  if (live.length === 0) return undefined;
  const v = copy(current);
  const events: DomainEvent[] = [];
  for (const attempt of liveAttempts(v).filter(which)) {
    const delivered = attempt.status === "ringing" && attempt.channel === "flashcall"; // a voice call said nothing yet
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

/** Past this long after dialing, an attempt still recorded in flight has no process behind it any more. */
/** How long an attempt may stay in flight: one figure, or one per channel (a voice call outlasts a flash call). */
export type AttemptDeadlineMs = number | ((channel: ChannelName) => number);

const attemptDeadline = (a: Attempt, attemptDeadlineMs: AttemptDeadlineMs) =>
  (a.dialedAt ?? a.createdAt) +
  (typeof attemptDeadlineMs === "number" ? attemptDeadlineMs : attemptDeadlineMs(a.channel));

/**
 * When the verification's durable timer must fire next: at its expiry (or its step's deadline) while it is
 * pending, and at the deadline of any attempt still in flight (a crash may have left it so). Null when nothing is
 * left to do.
 */
export function nextWake(v: Verification, attemptDeadlineMs: AttemptDeadlineMs): number | null {
  let wake = v.status === "pending" ? Math.min(v.expiresAt, v.stepDeadline ?? v.expiresAt) : null;
  for (const a of liveAttempts(v)) {
    const deadline = attemptDeadline(a, attemptDeadlineMs);
    if (wake === null || deadline < wake) wake = deadline;
  }
  return wake;
}

/**
 * What the durable timer does when it fires: attempts past their deadline are settled as interrupted (whoever
 * placed them is gone), a verification past its expiry expires, and a step past its deadline is over (the service
 * opens the next). Nothing stays pending past its expiry, even when its attempt was interrupted.
 */
export function advance(
  current: Verification,
  at: number,
  attemptDeadlineMs: AttemptDeadlineMs,
): Transition | undefined {
  const interrupted = markInterrupted(current, at, (a) => attemptDeadline(a, attemptDeadlineMs) <= at);
  const v = interrupted?.verification ?? current;
  const expired = expire(v, at);
  if (expired) {
    return { verification: expired.verification, events: [...(interrupted?.events ?? []), ...expired.events] };
  }
  if (v.status === "pending" && v.stepDeadline !== null && at >= v.stepDeadline) {
    return { verification: v, events: interrupted?.events ?? [], stepOver: "step_timeout" };
  }
  return interrupted;
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
