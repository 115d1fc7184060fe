/**
 * What the verification service is built from: its ports, the controls around them, and its settings. The
 * composition root (src/services.ts) supplies them; tests supply fakes of the ports.
 */
import type { AutoChoice } from "./channel-choice.js";
import type { CodeHasher } from "./codes.js";
import type { PreSendDecider } from "./decision.js";
import type { Channels, MessageTexts } from "./dispatcher.js";
import type { InboundPool } from "./inbound-pool.js";
import type { NumberPool } from "./pool.js";
import type { Clock, EventSink, FraudGuard, Store } from "./ports.js";
import type { RateCard } from "./rate-card.js";
import type { ReverseCallsDeps } from "./reverse-calls.js";
import type { ReviewNumbers } from "./review-numbers.js";
import type { DomainEvent, Verification, WorkflowStep } from "./types.js";
import type { AttemptDeadlineMs } from "./verification.js";

export interface VerificationSettings {
  /** how long a flash-call step accepts its code; default 60 s, at most 120 s */
  flashcallTtlMs: number;
  /** lifetime of the whole verification; at most 10 minutes */
  verificationTtlMs: number;
  /** checks allowed per flash-call verification; default 3 */
  flashcallMaxChecks: number;
  /** how long a client token stays usable after the verification expires (status reads) */
  clientTokenGraceMs: number;
  /**
   * an attempt still recorded in flight this long after it was dialed has no process behind it (a crash): its
   * timer settles it as interrupted; default 120 s, longer than any call the channels place
   */
  attemptDeadlineMs?: AttemptDeadlineMs;
  /** the steps of a verification whose request names none, or `auto`; default: a flash call alone */
  defaultWorkflow?: WorkflowStep[] | "auto";
  /** checks allowed when the workflow has no flash call (OTP only); default 5 */
  otpMaxChecks?: number;
  /** digits of message codes, 4-10; default 6 */
  otpLength?: number;
  /** without `texts`: the message text in every language, `{app}`, `{code}`, `{minutes}`; default the shipped ones */
  otpTemplate?: string;
  /** the sender named in message texts; default "flashverify" */
  appName?: string;
  /** attempts one verification may make, fallbacks and resends included; default 5 */
  maxAttempts?: number;
}

export interface PoolSource {
  /** pools that may call a destination in `country`, best first */
  poolsFor(country: string): readonly NumberPool[];
}

export interface VerificationServiceDeps {
  store: Store;
  clock: Clock;
  hasher: CodeHasher;
  pools: PoolSource;
  channels: Channels;
  settings: VerificationSettings;
  /** told after each commit that wrote events (SSE streams, the webhook worker) */
  events?: EventSink | undefined;
  /** told the events of each commit and the verification as committed (metrics, the delivery measurement) */
  observer?: ((events: readonly DomainEvent[], verification: Verification) => void) | undefined;
  /** the applications' pre-send decision callbacks */
  decisions?: PreSendDecider | undefined;
  /** the applications' review numbers; without them none is */
  reviewNumbers?: Pick<ReviewNumbers, "find"> | undefined;
  /** fraud and abuse controls; without them every start and check is let through */
  fraud?: FraudGuard | undefined;
  /** the messages' texts per application and language; default the shipped templates */
  texts?: MessageTexts | undefined;
  /** prices attempts as they end; default the shipped list prices (src/core/rate-card.ts) */
  rateCard?: RateCard | undefined;
  /** workflow auto's choice of channels by measured delivery; without it `auto` is refused */
  auto?: AutoChoice | undefined;
  /** reports failures of background work (channel callbacks), which have no caller to return them to */
  onBackgroundError?: (error: unknown, context: string) => void;
  /** the reverse flash call's numbers and what its calls must carry; absent: that channel is not configured */
  reverse?:
    | (Pick<ReverseCallsDeps, "attestationPolicy" | "limits" | "poolIsComplete"> & { inbound: InboundPool })
    | undefined;
}
