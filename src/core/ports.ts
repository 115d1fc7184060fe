/**
 * The core's ports: everything it needs from the world, as interfaces. Storage, channels and the clock are
 * implemented elsewhere (src/storage, src/channels) and handed in by the composition root (src/services.ts).
 */

import type { Result } from "./errors.js";
import type { VoiceTexts } from "./templates/shipped-voice.js";
import type { AttemptReason, ChannelName, ClientInfo, DomainEvent, RiskAssessment, Verification } from "./types.js";

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A CLI reserved for one live verification; the store refuses a second live lease on the same CLI. */
export interface CliLease {
  poolId: string;
  cliKey: string;
  verificationId: string;
  /** a lease past this time is stale (its verification cannot be live) and may be taken over */
  expiresAt: number;
}

export interface ApiKeyRecord {
  id: string;
  applicationId: string;
  keyHash: string;
  label: string;
  createdAt: number;
}

export interface StoredPool {
  id: string;
  name: string;
  numbers: string[];
  codeLength: number;
  countries: string[];
  createdAt: number;
}

/** A reverse flash call waiting for its phone's call (see `Store.liveReverseAttempts`). */
export interface ReverseAttemptRef {
  verificationId: string;
  phone: string;
  dial: string;
  expiresAt: number;
}

/** A start request made with an Idempotency-Key, and the verification it created. */
export interface IdempotencyRecord {
  applicationId: string;
  key: string;
  /** hash of the request body: the same key with another body is a client bug, not a retry */
  requestHash: string;
  verificationId: string;
  createdAt: number;
}

export interface StoredEvent extends DomainEvent {
  /** `evt_...`: sorts in the order of its verification's events */
  id: string;
  /** the global order of all events, the cursor of paging and of the outbox */
  seq: number;
}

/** What `Store.createVerification` writes in one transaction. */
export interface NewVerification {
  verification: Verification;
  /** absent for a verification that ends before anything is sent (it holds no CLI) */
  lease?: CliLease | undefined;
  phoneLastCliKey?: string | undefined;
  events: DomainEvent[];
  idempotency?: IdempotencyRecord | undefined;
  /** when its durable timer fires (see `nextWake`); absent or null: no timer */
  wakeAt?: number | null | undefined;
}

export interface Store {
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** cheap round trip for readiness */
  ping(): Promise<void>;

  ensureApplication(app: { id: string; name: string; createdAt: number }): Promise<void>;
  insertApiKey(key: ApiKeyRecord): Promise<void>;
  findApiKey(keyHash: string): Promise<ApiKeyRecord | undefined>;

  upsertPool(pool: StoredPool): Promise<void>;
  listPools(): Promise<StoredPool[]>;

  /** Returns the value stored under `name`, storing `value` first if there was none (used for generated secrets). */
  getOrCreateSetting(name: string, value: string): Promise<string>;

  /**
   * Creates a verification with its attempts, its CLI lease, its events and its idempotency record in one
   * transaction. Writes nothing and returns `cli_taken` when a live lease already holds the CLI, or
   * `idempotency_taken` when the application already used this Idempotency-Key.
   */
  createVerification(input: NewVerification): Promise<"created" | "cli_taken" | "idempotency_taken">;

  /** The record of an Idempotency-Key an application used, if it is still remembered. */
  findIdempotency(applicationId: string, key: string): Promise<IdempotencyRecord | undefined>;

  getVerification(id: string): Promise<Verification | undefined>;

  /**
   * A store shared by several processes (PostgreSQL) may offer the verification as this process last wrote it, so a
   * change can start without a read. It is only a guess (another process may have written since): a change built on
   * it stands only if `saveVerification`'s version check accepts it. A store that is its database's only writer
   * (SQLite) has no need of it: its `getVerification` answers exactly from its own cache of what it wrote.
   */
  lastWritten?(id: string): Verification | undefined;

  /**
   * Writes `verification` (and its attempts) if its stored version is still `expectedVersion`, together with its
   * events, and releases its CLI leases when `releaseLeases` is set (the save that ends it).
   * Each event also gets a delivery row for every enabled webhook endpoint of the application that accepts its type
   * (the outbox), and the verification's timer is moved to `wakeAt` (null deletes it, undefined leaves it).
   * Returns false, writing nothing, on a version conflict.
   */
  saveVerification(
    verification: Verification,
    expectedVersion: number,
    events: DomainEvent[],
    releaseLeases: boolean,
    wakeAt?: number | null,
  ): Promise<boolean>;

  /**
   * Reverse flash calls waiting for a call: attempts of pending verifications whose `dial` is `dial` (every number
   * when absent), of `phone` when given (found through the phone's verifications, so a number shared by thousands
   * costs no more than one), that have not expired by `now`.
   */
  liveReverseAttempts(now: number, dial?: string, phone?: string): Promise<ReverseAttemptRef[]>;

  /** Keys of the pool's CLIs held by live (unexpired) leases: consulted only when a pool is nearly full. */
  liveLeaseKeys(poolId: string, now: number): Promise<Set<string>>;

  /** The CLI key last used to call this phone, so the next call can avoid it. */
  lastCliKey(phone: string): Promise<string | undefined>;

  /** Ids of verifications with attempts still dialing or ringing. */
  listWithLiveAttempts(limit: number): Promise<string[]>;

  /**
   * Claims up to `limit` timers due at `now`, oldest first, and returns their verification ids. A claimed timer is
   * not handed out again before `claimUntil` (so a worker that dies mid-way only delays it); saving the
   * verification with a new wake time releases the claim.
   */
  claimTimers(now: number, claimUntil: number, limit: number): Promise<string[]>;

  /**
   * Releases every claim on timers and webhook deliveries. Run at start by the only server of a database (the
   * server lock guarantees it), so that claims of a killed process do not wait for their lease to lapse.
   */
  releaseAllClaims(): Promise<void>;

  /** Moves (or with null deletes) a verification's timer outside of a save. */
  setTimer(verificationId: string, wakeAt: number | null): Promise<void>;

  /** A verification's events in order, after the one with global order `afterSeq` when given. */
  listEvents(verificationId: string, afterSeq?: number): Promise<StoredEvent[]>;

  /** An application's events in global order after `afterSeq`. */
  listApplicationEvents(applicationId: string, afterSeq: number, limit: number): Promise<StoredEvent[]>;

  /** One event by id, with the application of its verification. */
  findEvent(id: string): Promise<(StoredEvent & { applicationId: string | null }) | undefined>;

  /** Writes a block or allow-list entry together with its events (e.g. a detector's `verification.blocked`). */
  insertFraudRule(rule: FraudRule, events: DomainEvent[]): Promise<void>;
  /** Entries that have not expired by `since` (or never expire), oldest first. */
  listFraudRules(since: number): Promise<FraudRule[]>;
  /** Removes an application's entry; false when it has no such entry. */
  deleteFraudRule(applicationId: string, id: string): Promise<boolean>;
}

/** Told when a verification's events have committed; SSE streams and the webhook worker listen. */
export interface EventSink {
  /** `applicationId` is the verification's: only that application's listeners need to look. */
  committed(verificationId: string, applicationId: string): void;
}

/**
 * A block or allow-list entry of one application. `number` matches one E.164 number, `prefix` every number that
 * starts with it, `country` every number of an ISO country. Admin entries come from the API; detector entries from
 * the pumping detector (a `shadow` one only records what would have been blocked).
 */
export interface FraudRule {
  id: string;
  applicationId: string;
  list: "block" | "allow";
  scope: "number" | "prefix" | "country";
  value: string;
  reason: string;
  source: "admin" | "detector";
  shadow: boolean;
  createdAt: number;
  /** null: until deleted */
  expiresAt: number | null;
}

/**
 * What a channel reports back about one attempt. Calls arrive in order: `ringing` at most once, then `ended` once.
 * (The attempt is stored as `dialing` in the transaction that creates it, just before `send`.)
 */
export interface AttemptProgress {
  ringing(at: number): void;
  ended(outcome: AttemptOutcome): void;
}

export interface AttemptOutcome {
  at: number;
  /** true when the user was shown the CLI (the phone rang) */
  delivered: boolean;
  reason: AttemptReason;
  sipCode: number | null;
  /** the trunk that carried the call, when the channel has trunks */
  trunkId?: string | null;
  /** epoch ms that trunk's INVITE went out */
  invitedAt?: number | null;
  /** the final response's Reason header */
  reasonHeader?: string | null;
  /** what a message provider said (status or error) */
  detail?: string | null;
  /** trunks that failed the call before, in order (for the attempt's event) */
  failedOver?: { trunk: string; reason: string; sipCode: number | null }[];
  /** voice calls: how long the call lasted from the answer, for its per-minute price */
  answeredMs?: number;
}

/** What a channel is asked to send. Each channel handles its own kind. */
export type OutboundMessage = { kind: "flashcall"; attemptId: string; to: string; cli: string };

/**
 * A text channel (SMS over SMPP or HTTP, WhatsApp, email): sends one OTP message per attempt, reports when the
 * provider took it, then how it ended. Providers' shapes stay inside each channel's folder (src/channels).
 */
export interface MessageChannel {
  send(message: OtpMessage, progress: MessageProgress): void;
  /**
   * Takes a delivery report the provider posted to our webhook (HTTP providers; SMPP receipts arrive on the bind).
   * Returns false when the payload is not one of this channel's reports; reports for unknown ids are ignored.
   */
  handleReceipt?(payload: Record<string, unknown>): boolean;
  /**
   * Ends an attempt still in progress because its verification ended or moved on: a voice call is hung up (CANCEL
   * while it rings, BYE while it plays) and ends `verification_ended` unless the code was already said. Channels
   * without it cannot take back what they sent: a message cannot be recalled, and its receipt is still recorded
   * (each channel bounds how long it waits for one).
   */
  cancel?(attemptId: string): void;
  /** Stops the channel. */
  close(): Promise<void>;
}

export type MessageReason =
  | "delivered"
  | "rejected"
  | "undeliverable"
  | "expired"
  | "submit_unknown"
  | "network_error"
  | "no_receipt"
  /** voice calls: how a call that did not say the code ended (see AttemptReason) */
  | VoiceCallReason;

/** Voice calls end with the SIP layer's reasons, or hung up before the code was said in full. */
export type VoiceCallReason = Extract<
  AttemptReason,
  | "busy"
  | "no_answer"
  | "not_found"
  | "unreachable"
  | "blocked_by_carrier"
  | "timeout"
  | "auth_failed"
  | "no_route"
  | "no_capacity"
  | "interrupted"
  | "hung_up_early"
  | "verification_ended"
>;

export interface MessageOutcome {
  at: number;
  delivered: boolean;
  reason: MessageReason;
  /** the provider's status or error, kept on the attempt */
  detail: string | null;
  /** voice calls: the final SIP status and the trunk that carried the call */
  sipCode?: number | null;
  trunkId?: string | null;
  /** voice calls: how long the call lasted from the answer (0 when not answered); the attempt is priced by it */
  answeredMs?: number;
}

export interface MessageProgress {
  /** voice calls: the phone rings (18x), so the attempt shows it and a verification that ends hangs it up */
  ringing?(at: number): void;
  /** the provider took the message, under these ids */
  accepted(at: number, providerIds: string[]): void;
  /** called once, last */
  ended(outcome: MessageOutcome): void;
}

export interface OtpMessage {
  attemptId: string;
  /** E.164 for phone channels, an address for email */
  to: string;
  /** the code alone, for channels whose template places it (WhatsApp's copy-code button) */
  code: string;
  /** the rendered message, for channels that send text as is */
  text: string;
  /** epoch ms when the step's code stops being accepted: a channel that keeps retrying gives up by then */
  expiresAt?: number | undefined;
  /** the verification's language (ISO 639-1, one of the shipped templates' languages): texts are in it, calls speak it */
  language?: string | null | undefined;
  /** email: the subject line */
  subject?: string | undefined;
  /** email: the language reads right to left */
  rightToLeft?: boolean | undefined;
  /** WhatsApp: the approved template and its language to send */
  whatsapp?: { templateName: string; languageCode: string } | undefined;
  /** voice: the phrases said around the code (the application's voice template); absent: the channel's defaults */
  voice?: VoiceTexts | undefined;
}

export interface Channel {
  readonly name: ChannelName;
  send(message: OutboundMessage, progress: AttemptProgress): void;
  /** Stops an attempt that no longer matters (the verification ended); a no-op when it has already ended. */
  cancel(attemptId: string): void;
  close(): Promise<void>;
}

/** What the fraud controls are told about a start, before anything is sent. */
export interface StartScreening {
  /** the id the verification will have; named by events the screening emits */
  verificationId: string;
  applicationId: string;
  /** E.164 destination */
  phone: string;
  country: string;
  /** libphonenumber's type of the number (MOBILE, FIXED_LINE_OR_MOBILE, VOIP, ...) */
  numberType: string;
  channel: ChannelName;
  /** the client fields of the request, with `ip` defaulted to the request's address */
  client: ClientInfo;
  /** country of the client's IP as a trusted proxy reported it (no GeoIP database is consulted) */
  ipCountry: string | null;
  /** the worst guess probability the chosen pool can give this start (checks allowed / fewest codes per prefix) */
  guessProbability: number;
  now: number;
}

export type SendScreening = Pick<
  StartScreening,
  "verificationId" | "applicationId" | "phone" | "country" | "numberType" | "channel" | "now"
>;

export interface CheckScreening {
  /** the application of the verification, or of the API key when there is no such verification */
  applicationId: string | null;
  /** the verification's destination; null when the id names no verification this caller may see */
  phone: string | null;
  ip: string | null;
  now: number;
}

/**
 * The fraud and abuse controls (src/fraud), as the start and check paths see them. Screening a start may refuse it
 * (rate limits, number policy, blocks, pumping, spend caps, risk) or let it through with its risk assessment;
 * `shadow_block` means: answer as if sent, send nothing.
 */
export interface FraudGuard {
  screenStart(request: StartScreening): Promise<Result<RiskAssessment>>;
  /**
   * A later step of a workflow is about to send (a fallback or a resend): the channel's number policy, blocks and
   * spend caps apply to it as to the first send. Start limits and risk were decided at the start.
   */
  screenSend(request: SendScreening): Promise<Result<void>>;
  /**
   * May refuse a check (rate limits). When the check names a number (`phone`), it also takes its place in the
   * number's failure budget before its code is compared, atomically, so checks arriving together cannot all see
   * the budget unspent: `locked` means no place was left, and the check must be answered exactly like a wrong code,
   * whatever was reported. A check that did not fail after all (it verified, or changed nothing) gives its place
   * back with `releaseCheck`; a wrong one keeps it, and a new verification does not reset it.
   */
  screenCheck(request: CheckScreening): Promise<Result<{ locked: boolean }>>;
  /** Gives back the failure-budget place a screened check of `phone` took, when that check did not fail. */
  releaseCheck(applicationId: string, phone: string): Promise<void>;
  /** A verification succeeded: conversion for the pumping detector, a known device for risk scoring. */
  recordVerified(v: Verification): void;
}
