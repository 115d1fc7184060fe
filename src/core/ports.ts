/**
 * The core's ports: everything it needs from the world, as interfaces. Storage, channels and the clock are
 * implemented elsewhere (src/storage, src/channels) and handed in by the composition root (src/services.ts).
 */
import type { AttemptReason, ChannelName, DomainEvent, Verification } from "./types.js";

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
  id: string;
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
  createVerification(input: {
    verification: Verification;
    lease: CliLease;
    phoneLastCliKey: string;
    events: DomainEvent[];
    idempotency?: IdempotencyRecord | undefined;
  }): Promise<"created" | "cli_taken" | "idempotency_taken">;

  /** The record of an Idempotency-Key an application used, if it is still remembered. */
  findIdempotency(applicationId: string, key: string): Promise<IdempotencyRecord | undefined>;

  getVerification(id: string): Promise<Verification | undefined>;

  /**
   * Writes `verification` (and its attempts) if its stored version is still `expectedVersion`, together with its
   * events, and releases its CLI leases when `releaseLeases` is set (the save that ends it).
   * Returns false, writing nothing, on a version conflict.
   */
  saveVerification(
    verification: Verification,
    expectedVersion: number,
    events: DomainEvent[],
    releaseLeases: boolean,
  ): Promise<boolean>;

  /** Keys of the pool's CLIs held by live (unexpired) leases: consulted only when a pool is nearly full. */
  liveLeaseKeys(poolId: string, now: number): Promise<Set<string>>;

  /** The CLI key last used to call this phone, so the next call can avoid it. */
  lastCliKey(phone: string): Promise<string | undefined>;

  /** Ids of verifications with attempts still dialing or ringing. */
  listWithLiveAttempts(limit: number): Promise<string[]>;

  /** Ids of pending verifications whose expiry has passed, oldest first. */
  listExpired(now: number, limit: number): Promise<string[]>;

  listEvents(verificationId: string): Promise<StoredEvent[]>;
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
}

/** What a channel is asked to send. Each channel handles its own kind. */
export type OutboundMessage = { kind: "flashcall"; attemptId: string; to: string; cli: string };

export interface Channel {
  readonly name: ChannelName;
  send(message: OutboundMessage, progress: AttemptProgress): void;
  /** Stops an attempt that no longer matters (the verification ended); a no-op when it has already ended. */
  cancel(attemptId: string): void;
  close(): Promise<void>;
}
