/**
 * The verification use cases: start, check, read, cancel, expire. It orchestrates the ports (store, channels,
 * clock) around the pure lifecycle in `verification.ts`; it knows nothing of HTTP or SQL.
 *
 * Every change is read-modify-write with an optimistic version, retried on conflict, so two concurrent checks of
 * one verification are counted exactly once each and at most one of them can verify it. Within a process, work on
 * one verification is also queued, so channel callbacks and checks do not spin against each other.
 */
import { randomInt } from "node:crypto";
import type { CodeHasher } from "./codes.js";
import { hashToken, tokenHashEquals } from "./codes.js";
import { type AppError, err, ok, type Result } from "./errors.js";
import { hashRequest } from "./idempotency.js";
import { newId } from "./ids.js";
import { readReportedCli } from "./matching.js";
import { parseDestination } from "./phone.js";
import { cliPrefix, type NumberPool } from "./pool.js";
import type { AttemptOutcome, Channel, Clock, Store } from "./ports.js";
import type { Attempt, ClientInfo, Verification } from "./types.js";
import {
  applyCheck,
  attemptsRemaining,
  cancel,
  expire,
  isFinal,
  liveAttempts,
  markAttemptEnded,
  markInterrupted,
  markRinging,
  newFlashcallVerification,
  startedEvents,
  type Transition,
} from "./verification.js";

export interface VerificationSettings {
  /** how long a flash-call step accepts its code; default 60 s, at most 120 s */
  flashcallTtlMs: number;
  /** lifetime of the whole verification; at most 10 minutes */
  verificationTtlMs: number;
  /** checks allowed per flash-call verification; default 3 */
  flashcallMaxChecks: number;
  /** how long a client token stays usable after the verification expires (status reads) */
  clientTokenGraceMs: number;
}

export interface StartInput {
  phone: string;
  reference?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
  client?: ClientInfo | undefined;
}

export interface StartOptions {
  /** the request's Idempotency-Key: a retry with the same key and body returns the first verification */
  idempotencyKey?: string | undefined;
}

export interface Started {
  verification: Verification;
  /** true when this answers a retry of an earlier request with the same Idempotency-Key */
  replayed: boolean;
  clientToken: string;
}

/** Who is asking: a backend of an application, or the app/browser holding one verification's client token. */
export type Access = { kind: "application"; applicationId: string } | { kind: "client"; tokenHash: string };

export interface CheckInput {
  code?: string | undefined;
  caller_id?: string | undefined;
}

export interface Checked {
  verification: Verification;
  attemptsRemaining: number;
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
  channels: { flashcall: Channel };
  settings: VerificationSettings;
  /** reports failures of background work (channel callbacks), which have no caller to return them to */
  onBackgroundError?: (error: unknown, context: string) => void;
}

const RANDOM_DRAWS = 16;
/** a nearly full pool is scanned for free numbers this far at most */
const MAX_SCAN = 1_000_000;
const MAX_CONFLICT_RETRIES = 8;
/** a lease outlives its verification's expiry by this much, so a crashed process cannot hold a CLI forever */
const LEASE_GRACE_MS = 60_000;

export class VerificationService {
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: VerificationServiceDeps) {}

  async start(applicationId: string, input: StartInput, options: StartOptions = {}): Promise<Result<Started>> {
    const { store, clock, hasher, settings } = this.deps;
    const idempotency =
      options.idempotencyKey === undefined
        ? undefined
        : { key: options.idempotencyKey, requestHash: hashRequest(input) };
    if (idempotency) {
      const earlier = await store.findIdempotency(applicationId, idempotency.key);
      if (earlier) return this.replay(earlier.verificationId, earlier.requestHash === idempotency.requestHash);
    }
    const phone = parseDestination(input.phone);
    if (!phone) return err("INVALID_PHONE_NUMBER");
    const pool = this.deps.pools.poolsFor(phone.country)[0];
    if (!pool) return err("NO_POOL_FOR_DESTINATION");

    const now = clock.now();
    const verificationId = newId("ver", now);
    const attemptId = newId("att", now);
    const clientToken = hasher.clientToken(verificationId);
    const lastCliKey = await store.lastCliKey(phone.e164);

    for await (const { cli, cliKey } of this.candidates(pool, lastCliKey)) {
      const verification = newFlashcallVerification({
        id: verificationId,
        attemptId,
        applicationId,
        phone,
        input,
        pool,
        cliKey,
        cliPrefix: cliPrefix(cli, pool.codeLength),
        codeMac: hasher.codeMac(attemptId, cli.slice(-pool.codeLength)),
        clientTokenHash: hashToken(clientToken),
        now,
        settings,
      });
      const attempt = verification.attempts[0] as Attempt;
      const created = await store.createVerification({
        verification,
        lease: { poolId: pool.id, cliKey, verificationId, expiresAt: verification.expiresAt + LEASE_GRACE_MS },
        phoneLastCliKey: cliKey,
        events: startedEvents(verification),
        idempotency: idempotency && { ...idempotency, applicationId, verificationId, createdAt: now },
      });
      if (created === "cli_taken") continue;
      if (created === "idempotency_taken" && idempotency) {
        // A concurrent request with the same key won the race: answer as its retry.
        const winner = await store.findIdempotency(applicationId, idempotency.key);
        if (winner) return this.replay(winner.verificationId, winner.requestHash === idempotency.requestHash);
        return err("INTERNAL", "an Idempotency-Key was claimed but its record is gone");
      }

      this.dispatch(verification, attempt, cli);
      return ok({
        verification,
        replayed: false,
        clientToken,
      });
    }
    return err("POOL_EXHAUSTED");
  }

  private async replay(verificationId: string, sameRequest: boolean): Promise<Result<Started>> {
    if (!sameRequest) return err("IDEMPOTENCY_CONFLICT");
    const verification = await this.deps.store.getVerification(verificationId);
    const attempt = verification?.attempts[0];
    if (!verification || !attempt) return err("INTERNAL");
    return ok({
      verification,
      replayed: true,
      clientToken: this.deps.hasher.clientToken(verification.id),
    });
  }

  /**
   * CLIs to try, avoiding the one that last called this destination: first uniform random draws (almost always
   * enough); when they keep hitting live leases the pool is nearly full, so the free numbers are found by scanning
   * from a random offset against the set of live leases.
   */
  private async *candidates(
    pool: NumberPool,
    lastCliKey: string | undefined,
  ): AsyncGenerator<{ cli: string; cliKey: string }> {
    const { hasher, store } = this.deps;
    // With a single number there is nothing to alternate with.
    const usable = (cliKey: string) => pool.size === 1 || cliKey !== lastCliKey;
    for (let draw = 0; draw < RANDOM_DRAWS; draw++) {
      const cli = pool.draw();
      const cliKey = hasher.cliKey(cli);
      if (usable(cliKey)) yield { cli, cliKey };
    }
    const leased = await store.liveLeaseKeys(pool.id, this.deps.clock.now());
    if (leased.size >= pool.size) return;
    const scan = Math.min(pool.size, MAX_SCAN);
    const offset = randomInt(pool.size);
    for (let i = 0; i < scan; i++) {
      const cli = pool.at((offset + i) % pool.size);
      const cliKey = hasher.cliKey(cli);
      if (!leased.has(cliKey) && usable(cliKey)) yield { cli, cliKey };
    }
  }

  async get(id: string, access: Access): Promise<Result<Verification>> {
    // Reading an overdue verification settles it, so status never shows `pending` past its expiry.
    const result = await this.update(id, (v) => expire(v, this.deps.clock.now()), access);
    return result.ok ? ok(result.value.saved ?? result.value.read) : result;
  }

  async check(id: string, access: Access, input: CheckInput): Promise<Result<Checked>> {
    const reportedText = input.caller_id ?? input.code;
    if (reportedText === undefined) return err("INVALID_CODE_FORMAT");
    const { hasher, clock } = this.deps;
    const result = await this.update(
      id,
      (v) => {
        const now = clock.now();
        if (isFinal(v)) return undefined;
        const expired = expire(v, now);
        if (expired) return expired;
        const attempt = v.attempts.at(-1);
        if (!attempt) return undefined;
        const reported = readReportedCli(reportedText, v.country, attempt.codeLength);
        if (!reported) return { error: { code: "INVALID_CODE_FORMAT" } as AppError };
        // Always run the MAC comparison, even when the prefix already differs, so timing says nothing.
        const codeOk = hasher.codeMatches(attempt.id, reported.code, attempt.codeMac);
        const prefixOk = reported.prefix === null || reported.prefix === attempt.cliPrefix;
        return applyCheck(v, codeOk && prefixOk, attempt.cliPrefix + reported.code, now);
      },
      access,
    );
    if (!result.ok) return result;
    const { read, saved } = result.value;
    // Single use: once verified, no later check may read as a success.
    if (!saved && read.status === "verified") return err("ALREADY_VERIFIED");
    const v = saved ?? read;
    return ok({ verification: v, attemptsRemaining: attemptsRemaining(v) });
  }

  async cancel(id: string, access: Access): Promise<Result<Verification>> {
    const result = await this.update(id, (v) => cancel(v, this.deps.clock.now()), access);
    if (!result.ok) return result;
    return result.value.saved ? ok(result.value.saved) : err("VERIFICATION_NOT_PENDING");
  }

  /** Moves overdue verifications to `expired`; returns how many it settled. Safe to run from several places. */
  async expireDue(limit = 500): Promise<number> {
    const now = this.deps.clock.now();
    const ids = await this.deps.store.listExpired(now, limit);
    let count = 0;
    for (const id of ids) {
      const result = await this.update(id, (v) => expire(v, now));
      if (result.ok && result.value.saved) count++;
    }
    return count;
  }

  /**
   * Settles the attempts a previous process left dialing or ringing (see `markInterrupted`). Run once at start,
   * before any call is placed: it assumes this process is the only one placing calls for its database, which holds
   * for SQLite; several nodes sharing one database need to know which node owns which call.
   */
  async recoverInterrupted(): Promise<number> {
    let recovered = 0;
    const seen = new Set<string>();
    for (;;) {
      const ids = (await this.deps.store.listWithLiveAttempts(500)).filter((id) => !seen.has(id));
      if (ids.length === 0) return recovered;
      for (const id of ids) {
        seen.add(id);
        const result = await this.update(id, (v) => markInterrupted(v, this.deps.clock.now()));
        if (result.ok && result.value.saved) recovered++;
      }
    }
  }

  /** Constant-time: true when `token` is the client token of verification `id` (whether or not it still exists). */
  isClientToken(id: string, token: string): boolean {
    return tokenHashEquals(hashToken(this.deps.hasher.clientToken(id)), hashToken(token));
  }

  private allowed(v: Verification, access: Access): boolean {
    if (access.kind === "application") return v.applicationId === access.applicationId;
    const usable = this.deps.clock.now() < v.expiresAt + this.deps.settings.clientTokenGraceMs;
    return tokenHashEquals(v.clientTokenHash, access.tokenHash) && usable;
  }

  private dispatch(v: Verification, attempt: Attempt, cli: string): void {
    const { flashcall } = this.deps.channels;
    flashcall.send(
      { kind: "flashcall", attemptId: attempt.id, to: v.phone, cli },
      {
        ringing: (at) => this.background(v.id, (cur) => markRinging(cur, attempt.id, at), "ringing"),
        ended: (outcome: AttemptOutcome) =>
          this.background(v.id, (cur) => markAttemptEnded(cur, attempt.id, outcome), "attempt ended"),
      },
    );
  }

  private background(id: string, change: (v: Verification) => Transition | undefined, context: string): void {
    this.update(id, change).catch((error: unknown) => this.deps.onBackgroundError?.(error, context));
  }

  /**
   * Reads the verification (checking `access` when given), applies `change` and saves the result with its events,
   * retrying on version conflicts. Resolves to what was read and, when `change` made a transition, what was saved.
   * A change may also return an error, which is passed through without writing anything.
   */
  private update(
    id: string,
    change: (v: Verification) => Transition | { error: AppError } | undefined,
    access?: Access,
  ): Promise<Result<{ read: Verification; saved?: Verification }>> {
    const run = async (): Promise<Result<{ read: Verification; saved?: Verification }>> => {
      for (let i = 0; i < MAX_CONFLICT_RETRIES; i++) {
        const current = await this.deps.store.getVerification(id);
        // Another application's verification, or another verification's token, looks exactly like none.
        if (!current || (access && !this.allowed(current, access))) return err("VERIFICATION_NOT_FOUND");
        const next = change(current);
        if (!next) return ok({ read: current });
        if ("error" in next) return { ok: false, error: next.error };
        const ended = isFinal(next.verification) && !isFinal(current);
        if (await this.deps.store.saveVerification(next.verification, current.version, next.events, ended)) {
          if (ended) this.stopChannels(next.verification);
          return ok({ read: current, saved: next.verification });
        }
      }
      throw new Error(`verification ${id}: gave up after ${MAX_CONFLICT_RETRIES} conflicting updates`);
    };
    const previous = this.queues.get(id) ?? Promise.resolve();
    const result = previous.then(run, run);
    const tail = result.catch(() => undefined);
    this.queues.set(id, tail);
    void tail.then(() => {
      if (this.queues.get(id) === tail) this.queues.delete(id);
    });
    return result;
  }

  /** A verification that ended needs no more ringing: hang up calls still in progress. */
  private stopChannels(v: Verification): void {
    for (const attempt of liveAttempts(v)) this.deps.channels.flashcall.cancel(attempt.id);
  }
}
