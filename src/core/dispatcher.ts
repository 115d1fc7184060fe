/**
 * The last step of every path that sends: hands committed attempts to their channels and feeds what the channels
 * report back into the verification. It sends only what a committed transition holds; a fallback or resend passes
 * the fraud controls' send screening first (a start's first send was screened with the start).
 */
import { randomInt } from "node:crypto";
import type { Change } from "./change.js";
import { err } from "./errors.js";
import { numberType } from "./number-type.js";
import type { AttemptOutcome, Channel, Clock, FraudGuard, MessageChannel, MessageOutcome } from "./ports.js";
import type { RenderedMessage } from "./templates/template.js";
import type { Attempt, ChannelName, Verification } from "./types.js";
import { liveAttempts, markRinging, markSent, type PendingSend } from "./verification.js";

export type Channels = { flashcall: Channel } & Partial<Record<Exclude<ChannelName, "flashcall">, MessageChannel>>;

/** The text of each message send, in the verification's language (see TemplateBook). */
export interface MessageTexts {
  render(
    v: Verification,
    channel: Exclude<ChannelName, "flashcall">,
    code: string,
    ttlMs: number,
  ): Promise<RenderedMessage>;
}

export interface DispatcherDeps {
  channels: Channels;
  clock: Clock;
  fraud?: FraudGuard | undefined;
  texts: MessageTexts;
  /** applies a change reported by a channel to the stored verification, in the background */
  report: (id: string, change: (v: Verification) => Change, context: string) => void;
  /** how an attempt's end changes its verification (it may open the next step) */
  ended: (v: Verification, attemptId: string, outcome: AttemptOutcome) => Change;
  onBackgroundError?: ((error: unknown, context: string) => void) | undefined;
}

/** How long a call took to ring and then rang: what a shadow call's timing is drawn from. */
interface CallTiming {
  postDialMs: number;
  ringMs: number;
}

/** recent real calls kept to draw shadow calls' timing from */
const TIMINGS_KEPT = 64;
/** before any real call has rung: a post-dial delay and a ring time in the range carriers show */
const DEFAULT_TIMING: CallTiming = { postDialMs: 2_500, ringMs: 3_000 };

export class Dispatcher {
  private readonly timings: CallTiming[] = [];
  /** shadow calls in progress: how each ends when its verification stops it early */
  private readonly shadows = new Map<string, () => void>();

  constructor(private readonly deps: DispatcherDeps) {}

  /** Places a committed flash-call attempt from its leased CLI. */
  call(v: Verification, attempt: Attempt, cli: string): void {
    const { channels, clock, report, ended } = this.deps;
    const sentAt = clock.now();
    let ringingAt: number | undefined;
    channels.flashcall.send(
      { kind: "flashcall", attemptId: attempt.id, to: v.phone, cli },
      {
        ringing: (at) => {
          ringingAt = at;
          report(v.id, (cur) => markRinging(cur, attempt.id, at), "ringing");
        },
        ended: (outcome) => {
          if (outcome.delivered && ringingAt !== undefined) {
            this.keepTiming({ postDialMs: ringingAt - sentAt, ringMs: outcome.at - ringingAt });
          }
          report(v.id, (cur) => ended(cur, attempt.id, outcome), "attempt ended");
        },
      },
    );
  }

  /**
   * A shadow-blocked flash call: nothing is sent, but the attempt rings and ends as a missed call after delays
   * drawn from this server's recent real calls, so whoever holds the client token sees what a real call shows, at
   * the pace a real call shows it. It ends `shadow_blocked`, which only the backend's views show.
   */
  shadowCall(v: Verification, attempt: Attempt): void {
    const { clock, report, ended } = this.deps;
    const timing = this.timings.length > 0 ? this.timings[randomInt(this.timings.length)] : DEFAULT_TIMING;
    const { postDialMs, ringMs } = timing ?? DEFAULT_TIMING;
    let rang = false;
    const end = () => {
      clearTimeout(ringing);
      clearTimeout(ending);
      this.shadows.delete(attempt.id);
      const outcome = { at: clock.now(), delivered: rang, reason: "shadow_blocked" as const, sipCode: 487 };
      report(v.id, (cur) => ended(cur, attempt.id, outcome), "attempt ended");
    };
    const ringing = setTimeout(() => {
      rang = true;
      report(v.id, (cur) => markRinging(cur, attempt.id, clock.now()), "ringing");
    }, postDialMs).unref();
    const ending = setTimeout(end, postDialMs + ringMs).unref();
    this.shadows.set(attempt.id, end);
  }

  /**
   * A review number's step (src/core/review-numbers.ts): nothing goes to a channel, and the attempt completes at
   * once as if delivered: a flash call rings and is a missed call, a message is taken and delivered. It ends
   * `review_number`, which every view shows, and costs nothing.
   */
  review(v: Verification, attempt: Attempt): void {
    const { clock, report, ended } = this.deps;
    const at = clock.now();
    if (attempt.channel === "flashcall") report(v.id, (cur) => markRinging(cur, attempt.id, at), "ringing");
    else report(v.id, (cur) => markSent(cur, attempt.id, at, []), "message sent");
    const outcome: AttemptOutcome = { at, delivered: true, reason: "review_number", sipCode: null };
    report(v.id, (cur) => ended(cur, attempt.id, outcome), "attempt ended");
  }

  /**
   * Hands committed messages to their channels, and hangs up a superseded step's call still ringing. `screened`:
   * the start's screening already judged these sends. A review number's sends go nowhere (see `review`).
   */
  sendAll(v: Verification, sends: readonly PendingSend[], screened = false): void {
    if (sends.length === 0) return;
    if (v.reviewNumberId) {
      for (const send of sends) this.review(v, send.attempt);
      return;
    }
    const current = v.attempts.at(-1);
    for (const attempt of liveAttempts(v)) {
      if (attempt !== current) this.hangUp(attempt);
    }
    for (const send of sends) {
      if (screened || !this.deps.fraud) this.send(v, send);
      else void this.screenThenSend(v, send, this.deps.fraud);
    }
  }

  /**
   * A verification that ended needs no more ringing: hang up calls still in progress (a flash call, a voice call
   * ringing or playing). Messages already sent cannot be recalled; their receipts are still recorded.
   */
  stop(v: Verification): void {
    for (const attempt of liveAttempts(v)) this.hangUp(attempt);
  }

  /** Ends every shadow call in progress (at shutdown). */
  hangUpShadowCalls(): void {
    for (const end of [...this.shadows.values()]) end();
  }

  private hangUp({ id, channel }: Attempt): void {
    const shadow = this.shadows.get(id);
    if (shadow) shadow();
    else if (channel === "flashcall") this.deps.channels.flashcall.cancel(id);
    else this.deps.channels[channel]?.cancel?.(id);
  }

  private keepTiming(timing: CallTiming): void {
    if (timing.postDialMs < 0 || timing.ringMs < 0) return;
    if (this.timings.length >= TIMINGS_KEPT) this.timings.splice(randomInt(TIMINGS_KEPT), 1);
    this.timings.push(timing);
  }

  /** A fallback or resend passes the fraud controls' number policy, blocks and spend caps before it goes out. */
  private async screenThenSend(v: Verification, send: PendingSend, fraud: FraudGuard): Promise<void> {
    const { clock, report, ended } = this.deps;
    const screened = await fraud
      .screenSend({
        verificationId: v.id,
        applicationId: v.applicationId,
        phone: v.phone,
        country: v.country,
        numberType: numberType(v.phone),
        channel: send.attempt.channel,
        now: clock.now(),
      })
      .catch((error: unknown) => {
        this.deps.onBackgroundError?.(error, "fraud screening");
        return err("FRAUD_CHECK_UNAVAILABLE");
      });
    if (screened.ok) {
      this.send(v, send);
      return;
    }
    const refused: AttemptOutcome = {
      at: clock.now(),
      delivered: false,
      reason: "refused_by_policy",
      sipCode: null,
      detail: screened.error.code,
    };
    report(v.id, (cur) => ended(cur, send.attempt.id, refused), "attempt refused");
  }

  private send(v: Verification, { attempt, code }: PendingSend): void {
    const { channels, clock, report, ended } = this.deps;
    const name = attempt.channel;
    const channel = name === "flashcall" ? undefined : channels[name];
    if (!channel || name === "flashcall") {
      // Configuration changed since the workflow was accepted: the step fails and the workflow moves on.
      const outcome: MessageOutcome = {
        at: clock.now(),
        delivered: false,
        reason: "network_error",
        detail: "channel not configured",
      };
      report(v.id, (cur) => ended(cur, attempt.id, messageOutcome(outcome)), "attempt ended");
      return;
    }
    const ttlMs = attempt.expiresAt - (attempt.dialedAt ?? attempt.createdAt);
    this.deps.texts.render(v, name, code, ttlMs).then(
      (message) =>
        channel.send(
          {
            ...message,
            attemptId: attempt.id,
            to: name === "email" ? (v.email as string) : v.phone,
            code,
            expiresAt: attempt.expiresAt,
          },
          {
            ringing: (at) => report(v.id, (cur) => markRinging(cur, attempt.id, at), "ringing"),
            accepted: (at, ids) => report(v.id, (cur) => markSent(cur, attempt.id, at, ids), "message sent"),
            ended: (outcome) => report(v.id, (cur) => ended(cur, attempt.id, messageOutcome(outcome)), "attempt ended"),
          },
        ),
      (error: unknown) => {
        // The templates could not be read (the store is away): nothing was sent, and the workflow moves on.
        this.deps.onBackgroundError?.(error, "message template");
        const outcome: MessageOutcome = {
          at: clock.now(),
          delivered: false,
          reason: "network_error",
          detail: "template unavailable",
        };
        report(v.id, (cur) => ended(cur, attempt.id, messageOutcome(outcome)), "attempt ended");
      },
    );
  }
}

function messageOutcome(o: MessageOutcome): AttemptOutcome {
  const outcome: AttemptOutcome = {
    at: o.at,
    delivered: o.delivered,
    reason: o.reason,
    sipCode: o.sipCode ?? null,
    detail: o.detail,
  };
  if (o.trunkId) outcome.trunkId = o.trunkId;
  if (o.answeredMs !== undefined) outcome.answeredMs = o.answeredMs;
  return outcome;
}
