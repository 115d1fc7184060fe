/**
 * How a workflow moves on: opening a message step (a fresh code, kept in memory only until the send), and after a
 * step is over, the next step the destination can take, or the verification's end when none is left.
 */

import { messageAttempt, reverseAttempt } from "./attempts.js";
import { type Change, refuse } from "./change.js";
import type { CodeHasher } from "./codes.js";
import { newId } from "./ids.js";
import type { InboundPool } from "./inbound-pool.js";
import { numberType } from "./number-type.js";
import { DEFAULT_OTP_LENGTH, newOtp } from "./otp.js";
import type { AttemptOutcome } from "./ports.js";
import type { Attempt, ChannelName, Verification, WorkflowStep } from "./types.js";
import {
  failVerification,
  markAttemptEnded,
  openStep,
  type StepChange,
  skipStep,
  type Transition,
} from "./verification.js";
import { stepReaches } from "./workflow.js";

export const DEFAULT_MAX_ATTEMPTS = 5;

export interface StepSettings {
  /** digits of message codes, 4-10 */
  otpLength?: number | undefined;
  /** attempts one verification may make, fallbacks and resends included */
  maxAttempts?: number | undefined;
}

export class Steps {
  constructor(
    private readonly hasher: CodeHasher,
    private readonly settings: StepSettings,
    /** the numbers reverse flash calls ask the phone to call; null: that channel is not configured */
    private readonly inbound: InboundPool | null = null,
  ) {}

  /**
   * Opens message step `index`: a fresh code, kept in memory only until the send. A reverse flash call step takes
   * a number of the inbound pool instead; undefined when none is free for this phone. A review number's resend keeps
   * its fixed code: the MAC is keyed by the verification (see StartPersister.review), so the last attempt's serves.
   */
  openMessageStep(v: Verification, index: number, reason: StepChange | null, at: number): Transition | undefined {
    const step = v.workflow[index] as WorkflowStep;
    if (step.channel === "reverse_flashcall") return this.openReverseStep(v, index, reason, at);
    const review = v.reviewNumberId ? v.attempts.at(-1) : undefined;
    const length = review?.codeLength ?? this.settings.otpLength ?? DEFAULT_OTP_LENGTH;
    const code = newOtp(length);
    const attemptId = newId("att", at);
    const attempt = messageAttempt({
      id: attemptId,
      verificationId: v.id,
      seq: v.attempts.length + 1,
      channel: step.channel as Exclude<ChannelName, "flashcall">,
      codeLength: length,
      codeMac: review?.codeMac ?? this.hasher.codeMac(attemptId, code),
      cost: null,
      now: at,
    });
    // A shadow-blocked verification keeps answering like a real one, step after step, and never sends.
    const shadow = v.risk?.outcome === "shadow_block";
    const guessProbability = v.maxChecks / 10 ** length;
    const opened = openStep(v, { index, attempt, at, guessProbability, reason, shadow });
    return shadow ? opened : { ...opened, sends: [{ attempt: opened.verification.attempts.at(-1) as Attempt, code }] };
  }

  /** The phone is to call a number of the inbound pool; nothing is sent, so the transition holds no sends. */
  private openReverseStep(v: Verification, index: number, reason: StepChange | null, at: number) {
    const step = v.workflow[index] as WorkflowStep;
    const until = index < v.workflow.length - 1 ? Math.min(at + step.timeoutMs, v.expiresAt) : v.expiresAt;
    const dial = this.inbound?.take({ verificationId: v.id, phone: v.phone, expiresAt: until }, at);
    if (!dial) return undefined;
    const attempt = reverseAttempt({
      id: newId("att", at),
      verificationId: v.id,
      seq: v.attempts.length + 1,
      dial,
      now: at,
    });
    // Nothing to guess: only a call from the phone itself, through a trunk, verifies.
    const shadow = v.risk?.outcome === "shadow_block";
    return openStep(v, { index, attempt, at, guessProbability: 0, reason, shadow });
  }

  /**
   * The current step is over: open the next one the destination can take, or, when none is left, fail the
   * verification (the user asked for the next step and there is none: `NO_NEXT_STEP`, nothing changes).
   */
  proceed(t: Transition, reason: StepChange, at: number): Change {
    const v = t.verification;
    const destination = { numberType: numberType(v.phone), email: v.email };
    const events = [...t.events];
    if (v.attempts.length < (this.settings.maxAttempts ?? DEFAULT_MAX_ATTEMPTS)) {
      for (let index = v.step + 1; index < v.workflow.length; index++) {
        const reach = stepReaches(v.workflow[index]?.channel as ChannelName, destination);
        if (!reach.ok) {
          events.push(skipStep(v, { index, to: index + 1, reason: reach.reason, at }));
          continue;
        }
        const opened = this.openMessageStep(v, index, reason, at);
        if (!opened) {
          events.push(skipStep(v, { index, to: index + 1, reason: "no_inbound_number", at }));
          continue;
        }
        return { ...opened, events: [...events, ...opened.events] };
      }
    }
    if (reason === "requested") return refuse("NO_NEXT_STEP");
    const last = v.attempts.at(-1);
    const failed = failVerification(v, "attempt_failed", at, { attempt_reason: last?.reason ?? null });
    return { verification: failed.verification, events: [...events, ...failed.events] };
  }

  /** Records how an attempt ended and, when that ends its step, moves the workflow on. */
  ended(v: Verification, attemptId: string, outcome: AttemptOutcome): Change {
    const t = markAttemptEnded(v, attemptId, outcome);
    if (!t?.stepOver) return t;
    return this.proceed(t, t.stepOver, outcome.at);
  }
}
