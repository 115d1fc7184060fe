/** The domain's records. Times are epoch milliseconds; ids carry a type prefix. */

export type VerificationStatus = "pending" | "verified" | "failed" | "expired" | "canceled";
export const FINAL_STATUSES: ReadonlySet<VerificationStatus> = new Set(["verified", "failed", "expired", "canceled"]);

/** The channels a workflow step can use (see workflow.ts): the one list every schema and table derives from. */
export const CHANNELS = ["flashcall", "sms", "whatsapp", "viber", "email", "voice", "reverse_flashcall"] as const;
export type ChannelName = (typeof CHANNELS)[number];
/**
 * The channels that carry an OTP (everything but the flash call): in a message, or spoken by a voice call, whose
 * channel takes the same OtpMessage.
 */
export const MESSAGE_CHANNELS = [
  "sms",
  "whatsapp",
  "viber",
  "email",
  "voice",
] as const satisfies readonly ChannelName[];

/**
 * `dialing` INVITE sent, or message being submitted (stored so in the transaction that creates the attempt);
 * `ringing` the phone rings (18x); `sent` the message provider accepted the message (it waits for a receipt);
 * `delivered` the missed call landed (rang, then cancelled or answered) or the provider reported delivery;
 * `failed` the call did not ring or the message was refused or lost (reason says why). An attempt keeps being
 * recorded after its verification ends or moves on: its call or message still finishes.
 */
export type AttemptStatus = "dialing" | "ringing" | "sent" | "delivered" | "failed";

/** Why an attempt ended. Flash-call reasons mirror the SIP outcome taxonomy. */
export type AttemptReason =
  | "ringing_canceled"
  | "busy"
  | "not_found"
  | "rejected"
  | "unreachable"
  | "blocked_by_carrier"
  | "no_answer"
  | "timeout"
  | "answered"
  /** a digest challenge we could not answer (no or wrong credentials) */
  | "auth_failed"
  | "network_error"
  /** no trunk route serves the destination: nothing was sent */
  | "no_route"
  /** every trunk for the destination was out of service or at its call limits until the queue deadline */
  | "no_capacity"
  /** the process placing the call stopped before the call ended (crash or kill); its outcome is unknown */
  | "interrupted"
  /** fraud controls decided `shadow_block`: nothing was sent, though the caller was told it was */
  | "shadow_blocked"
  // Message channels (SMS, WhatsApp, email); `rejected` and `network_error` above apply to them too.
  /** the provider confirmed delivery */
  | "delivered"
  /** accepted, then reported undeliverable (phone off for good, unknown subscriber, bounced) */
  | "undeliverable"
  /** accepted, then not delivered within the provider's validity period */
  | "expired"
  /** the link dropped before the provider answered: it may have gone out, so it was not sent again */
  | "submit_unknown"
  /** accepted, and no final receipt came (many routes send none) */
  | "no_receipt"
  /** a fallback or resend the fraud controls refused (number policy, block, spend cap): nothing was sent */
  | "refused_by_policy"
  /** voice calls: answered, then hung up before the code had been said in full */
  | "hung_up_early"
  /** an application's review number: nothing was sent, and the step completed as if delivered */
  | "review_number"
  /**
   * voice calls: we ended the call (CANCEL while it rang, BYE while it played) because the verification ended
   * (verified, canceled, expired) or moved to its next step before the code had been said in full
   */
  | "verification_ended";

/** Why a verification ended in `failed`, `expired` or `canceled`. */
export type VerificationReason =
  | "max_checks"
  | "attempt_failed"
  | "ttl"
  | "canceled_by_api"
  /** the application's pre-send decision callback answered `deny` (or its default was deny): nothing was sent */
  | "denied_by_application"
  /** no step of the workflow could reach the destination (e.g. a landline with only a flash-call step) */
  | "no_reachable_step"
  /** the fraud controls refused the start (see `refusal`): nothing was sent */
  | "refused";

export interface ClientInfo {
  ip?: string | undefined;
  device_id?: string | undefined;
  platform?: string | undefined;
  app_version?: string | undefined;
  user_agent?: string | undefined;
  /** the language the person reads (BCP 47, e.g. `es-MX`), from the start's `locale` */
  locale?: string | undefined;
  /** the client can place a phone call (an app on a phone): workflow auto may offer the reverse flash call */
  can_dial?: boolean | undefined;
}

/** What the fraud controls decided about a start, and why. */
export type RiskOutcome = "allow" | "challenge" | "block" | "shadow_block";

export interface RiskFactor {
  /** stable name: `velocity`, `ip_velocity`, `prefix_concentration`, `low_prefix_conversion`, `ip_country_mismatch`, `new_device` */
  name: string;
  /** what this factor adds to the score */
  weight: number;
  /** the observation behind it, for people */
  detail: string;
}

export interface RiskAssessment {
  outcome: RiskOutcome;
  /** 0..1: the sum of the factors' weights, capped at 1 */
  score: number;
  factors: RiskFactor[];
  /** why the outcome is what it is, e.g. `score 0.9 >= block threshold 0.8` */
  reasons: string[];
}

export interface Attempt {
  id: string;
  verificationId: string;
  /** 1-based order within the verification */
  seq: number;
  channel: ChannelName;
  status: AttemptStatus;
  reason: AttemptReason | null;
  /** final SIP status of the call, when there was one */
  sipCode: number | null;
  /** flash calls only: the pool the CLI came from (null for message channels) */
  poolId: string | null;
  /** flash calls only: HMAC key of the CLI (never the CLI itself) */
  cliKey: string | null;
  /** flash calls only: E.164 CLI without its code digits: public */
  cliPrefix: string | null;
  /**
   * reverse flash calls only: the E.164 number of the inbound pool the phone is asked to call (public: the start
   * answers with it); null for every other channel
   */
  dial?: string | null;
  codeLength: number;
  /** HMAC of the code digits (the CLI's last digits, or the OTP a message carried) */
  codeMac: string;
  createdAt: number;
  dialedAt: number | null;
  ringingAt: number | null;
  endedAt: number | null;
  /** the carrier trunk that carried the call (the last one tried); null before it ends or without trunks */
  trunkId: string | null;
  /** when that trunk's INVITE went out (after any queueing and failover): post-dial delay = ringingAt - invitedAt */
  invitedAt: number | null;
  /** the Reason header of the final response (RFC 3326), e.g. `Q.850;cause=17;text="User busy"` */
  reasonHeader: string | null;
  /** after this the code of this attempt is no longer accepted */
  expiresAt: number;
  /** what the provider said about a message (its status or error), for support */
  detail: string | null;
  /** what this attempt cost in USD at the rate card's prices once it ended (attempt fee if the carrier took it,
   * delivered price if delivered); null while in flight or when never sent */
  cost: number | null;
  /** flash calls: what the phone said of the call (POST /v1/verifications/{id}/report); absent until it said */
  phoneReport?: PhoneReport | null;
}

/** What the phone saw of a flash call: it arrived, arrived after the step had moved on, or never arrived. */
export const REPORT_OUTCOMES = ["received", "late", "not_received"] as const;
export type ReportOutcome = (typeof REPORT_OUTCOMES)[number];
/** How the app knows: it read the incoming call, the call log, or the person said so. */
export const REPORT_SOURCES = ["intercept", "call_log", "manual"] as const;
export type ReportSource = (typeof REPORT_SOURCES)[number];

/** A phone's delivery report on a flash call. It never verifies anything; it is measured. */
export interface PhoneReport {
  outcome: ReportOutcome;
  source: ReportSource;
  at: number;
}

/** One step of a verification's workflow. */
export interface WorkflowStep {
  channel: ChannelName;
  /** after this long without success the next step starts */
  timeoutMs: number;
}

export interface Verification {
  id: string;
  applicationId: string;
  phone: string;
  country: string;
  status: VerificationStatus;
  reason: VerificationReason | null;
  reference: string | null;
  metadata: Record<string, unknown> | null;
  client: ClientInfo | null;
  clientTokenHash: string;
  maxChecks: number;
  checksUsed: number;
  guessProbability: number;
  /** the fraud controls' assessment at start; null when none ran */
  risk: RiskAssessment | null;
  /** the caller ID the user reported when it verified; the only time a CLI is stored */
  verifiedCallerId: string | null;
  createdAt: number;
  updatedAt: number;
  expiresAt: number;
  endedAt: number | null;
  /** optimistic-concurrency counter: every save must name the version it read */
  version: number;
  /** the channels to try, in order */
  workflow: WorkflowStep[];
  /** index in `workflow` of the step under way */
  step: number;
  /** when the next step starts unless this one succeeds first; null on the last step */
  stepDeadline: number | null;
  /** the address for an email step */
  email: string | null;
  attempts: Attempt[];
  /** set once its personal data was removed (see src/core/retention.ts); absent or null until then */
  redaction?: Redaction | null;
  /** why the fraud controls refused its start (status `failed`, reason `refused`); absent otherwise */
  refusal?: Refusal | null;
  /** why an automatic workflow (`workflow: "auto"`) chose its channels; absent for a workflow the request named */
  channelChoice?: ChannelChoice | null;
  /**
   * the application's review number it verifies (src/core/review-numbers.ts): nothing is sent, and its attempts'
   * codes are keyed by the verification rather than the attempt (one fixed code for all); absent otherwise
   */
  reviewNumberId?: string | null;
}

/**
 * The reason behind an automatic workflow: the destination's network, what was measured of flash calls to it, and
 * what that led to. Shown to the application with the verification and in `verification.started`.
 */
export interface ChannelChoice {
  /** the destination network: an operator's name from the network table, else country and number range */
  network: string;
  /** flash calls placed to the network in the window, and the share verified by them; null before any */
  flashcallConversion: number | null;
  samples: number;
  /** the upper confidence bound of the conversion (Wilson, 95%): below the threshold, flash calls are skipped */
  conversionUpperBound: number | null;
  /** the channels chosen, in order */
  workflow: ChannelName[];
  /**
   * `measured` the network converts, or too few calls were measured to judge it; `below_threshold` flash calls
   * skipped; `exploration` a flash call kept though below the threshold, so the network can recover; `cheaper` the
   * flash call converts but another workflow costs less per verified user; `number_type` a flash call cannot reach
   * the number (VoIP, a landline), so the cheapest other workflow was chosen
   */
  reason: "measured" | "below_threshold" | "exploration" | "cheaper" | "number_type";
  /** expected cost per verified user (USD, rate card) of each workflow weighed, by its channels joined with '>' */
  expectedCostPerVerified: Record<string, number | null>;
}

/** A start the fraud controls refused: the error it was answered with. Never holds a code or caller ID. */
export interface Refusal {
  code: string;
  message: string;
  /** which control refused and its figures: `{ limit }`, `{ reasons }` (risk factors), `{ scope, value }`, ... */
  details: Readonly<Record<string, unknown>> | null;
}

/** When and why a verification's personal data was removed, and for an erasure who asked. */
export interface Redaction {
  at: number;
  /** `retention`: the application's retention period ran out; `erasure`: `DELETE /v1/verifications/{id}` */
  reason: "retention" | "erasure";
  /** the API key that asked for an erasure; null for retention */
  by: string | null;
}

/**
 * The event catalogue. Each event's `data` is part of the public API (webhooks, SSE, /v1/events): see
 * `EVENT_DATA` in src/events/catalogue.ts for the fields of each type. A code or caller ID never appears before it
 * is earned; the caller ID appears only in `verification.verified`.
 */
export type EventType =
  | "verification.started"
  /** the workflow moved to its next channel: `{ from_channel, to_channel, reason }` */
  | "verification.fallback"
  /**
   * a policy refused sends: the application's decision callback (`{ reason: "denied_by_application" }`, the
   * verification ends `failed` with that reason) or the fraud controls (`{ reason: "SUSPECTED_PUMPING", rule_id,
   * scope, value, ... }`, for a start that was refused and so names a verification that was never created)
   */
  | "verification.blocked"
  | "verification.verified"
  | "verification.failed"
  | "verification.expired"
  | "verification.canceled"
  | "attempt.dialing"
  | "attempt.ringing"
  /** a message provider accepted the message: `{ channel, provider_ids }` */
  | "attempt.sent"
  | "attempt.delivered"
  | "attempt.failed"
  /** the phone reported what it saw of a flash call: `{ channel, outcome, source }` */
  | "attempt.reported";

export interface DomainEvent {
  type: EventType;
  verificationId: string;
  attemptId: string | null;
  at: number;
  data: Record<string, unknown>;
}
