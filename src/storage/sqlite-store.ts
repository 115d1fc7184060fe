/**
 * The default store: SQLite through better-sqlite3 directly, with every statement of the hot path prepared once and
 * every transaction run synchronously; what is not on the hot path is KyselyStore's (the base class), over the same
 * connection. On the hot path Kysely's per-query compilation and its async connection mutex cost several times
 * what SQLite itself does.
 */
import type SqliteDatabase from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import type { FraudRule, IdempotencyRecord, NewVerification, ReverseAttemptRef, StoredEvent } from "../core/ports.js";
import type { RetentionStore } from "../core/retention.js";
import type { DomainEvent, Verification } from "../core/types.js";
import type { WebhookStore } from "../events/webhook-store.js";
import { KyselyStore } from "./kysely-store.js";
import { toReverseRef } from "./kysely-writes.js";
import { sqliteRetention } from "./retention-sqlite.js";
import {
  attemptRow,
  deliveryId,
  eventRows,
  fraudRuleRow,
  idempotencyRow,
  leaseRow,
  toAttempt,
  toIdempotencyRecord,
  toStoredEvent,
  toVerification,
  verificationRow,
} from "./rows.js";
import type {
  AttemptsTable,
  Database,
  EventsTable,
  IdempotencyKeysTable,
  VerificationsTable,
  WebhookEndpointsTable,
} from "./schema.js";
import { GroupCommit } from "./sqlite-group-commit.js";
import { RecentVerifications } from "./sqlite-recent.js";
import {
  ATTEMPT_CHANGING,
  ATTEMPT_FIXED,
  changingRow,
  prepareStatements,
  type Statements,
  sameColumns,
  sameFixedFields,
} from "./sqlite-statements.js";
import { SqliteWebhooks } from "./sqlite-webhooks.js";
import { WebhookQueries } from "./webhook-queries.js";

/** Why a write gave up; thrown inside it so that everything it wrote rolls back. */
class Abort extends Error {
  constructor(readonly outcome: "cli_taken" | "idempotency_taken" | "version_conflict") {
    super(outcome);
  }
}

/**
 * The store's hot path runs on prepared statements, its writes group-committed (sqlite-group-commit.ts); reads of
 * recently written verifications come from its own exact cache.
 */
export class SqliteStore extends KyselyStore {
  /** webhook endpoints, deliveries and decision callbacks: the outbox's claims and outcomes on prepared statements */
  override readonly webhooks: WebhookStore;
  private statements: Statements | undefined;
  private readonly commits: GroupCommit;
  /**
   * The enabled webhook endpoints of each application with their type filters, so that writing an event costs no
   * query when nobody listens (an INSERT ... SELECT per event measured ~25 µs even with no endpoint at all). It is
   * exact because every endpoint change goes through this object and the server lock makes it the database's only
   * server; the Kysely store (PostgreSQL, several nodes) selects the endpoints inside each event's transaction.
   */
  private listeners = new Map<string, { id: string; types: ReadonlySet<string> | null }[]>();
  /**
   * The committed state of recently written verifications, so reading one back costs no query (two statements
   * and the row mapping measured about a tenth of the server's time): `getVerification` reads through it. Exact for
   * the same reason as `listeners`: every write of a verification goes through this object, and an entry changes
   * only after its write committed; a save refused by its version check drops the entry all the same, so the retry
   * reads the row. The domain copies a verification before changing it, so the objects handed out are never
   * modified.
   */
  private readonly recent = new RecentVerifications();

  /**
   * @param db the connection; public so the SQLite rate-limiter backend can keep its counters in the same file
   * @param onClose stops what runs beside the connection (the WAL checkpointer), before it closes
   */
  constructor(
    readonly db: SqliteDatabase.Database,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {
    // Kysely serves the migrations and the rarely used administrative queries over the same connection.
    const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: db }) });
    super(kysely);
    this.commits = new GroupCommit(db);
    this.webhooks = new SqliteWebhooks({
      db,
      statements: () => this.s,
      commits: this.commits,
      shared: new WebhookQueries(kysely, false),
      endpointsChanged: () => this.loadListeners(),
    });
  }

  /** The prepared statements; they need the tables, so they exist only once `migrate()` has run. */
  private get s(): Statements {
    if (!this.statements) throw new Error("SqliteStore: call migrate() before using the store");
    return this.statements;
  }

  override async migrate(): Promise<void> {
    await super.migrate();
    this.statements = prepareStatements(this.db);
    this.loadListeners();
  }

  private loadListeners(): void {
    const rows = this.s.enabledEndpoints.all() as Pick<
      WebhookEndpointsTable,
      "id" | "application_id" | "event_types"
    >[];
    const listeners = new Map<string, { id: string; types: ReadonlySet<string> | null }[]>();
    for (const row of rows) {
      const types = row.event_types === "*" ? null : new Set(row.event_types.split(",").filter(Boolean));
      const list = listeners.get(row.application_id) ?? [];
      list.push({ id: row.id, types });
      listeners.set(row.application_id, list);
    }
    this.listeners = listeners;
  }

  override async close(): Promise<void> {
    this.commits.flush();
    await this.onClose();
    await super.close();
  }

  override async ping(): Promise<void> {
    this.db.prepare("select 1").get();
  }

  async createVerification(input: NewVerification): Promise<"created" | "cli_taken" | "idempotency_taken"> {
    const { verification: v, lease, idempotency } = input;
    const s = this.s;
    try {
      await this.write(
        () => {
          if (idempotency) {
            const claimed = s.claimIdempotency.run(idempotencyRow(idempotency));
            if (claimed.changes === 0) throw new Abort("idempotency_taken");
          }
          if (lease) {
            const leased = s.takeLease.run({ ...leaseRow(lease), now: v.createdAt });
            if (leased.changes === 0) throw new Abort("cli_taken");
          }
          s.insertVerification.run(verificationRow(v));
          for (const a of v.attempts) s.insertAttempt.run(attemptRow(a));
          if (input.phoneLastCliKey !== undefined) s.setLastCli.run({ phone: v.phone, cli_key: input.phoneLastCliKey });
          this.insertEvents(input.events, v.applicationId);
          if (input.wakeAt != null) s.upsertTimer.run({ verification_id: v.id, due_at: input.wakeAt });
        },
        () => this.recent.remember(v),
      );
      return "created";
    } catch (error) {
      if (error instanceof Abort && error.outcome !== "version_conflict") return error.outcome;
      throw error;
    }
  }

  override async findIdempotency(applicationId: string, key: string): Promise<IdempotencyRecord | undefined> {
    const row = this.s.findIdempotency.get({ application_id: applicationId, key }) as IdempotencyKeysTable | undefined;
    return row && toIdempotencyRecord(row);
  }

  async getVerification(id: string): Promise<Verification | undefined> {
    const cached = this.recent.get(id);
    if (cached) return cached;
    const row = this.s.getVerification.get({ id }) as VerificationsTable | undefined;
    if (!row) return undefined;
    const attempts = this.s.getAttempts.all({ id }) as AttemptsTable[];
    return toVerification(row, attempts.map(toAttempt));
  }

  /** Retention and erasure on this connection; they forget what `recent` holds of the verifications they redact. */
  override retentionStore(): RetentionStore {
    if (!this.statements) throw new Error("SqliteStore: call migrate() before using the store");
    return sqliteRetention(this.db, (ids) => {
      for (const id of ids) this.recent.delete(id);
    });
  }

  async saveVerification(
    v: Verification,
    expectedVersion: number,
    events: DomainEvent[],
    releaseLeases: boolean,
    wakeAt?: number | null,
  ): Promise<boolean> {
    const s = this.s;
    const before = this.recent.get(v.id);
    const previous = before?.version === expectedVersion ? before : undefined;
    try {
      await this.write(
        () => {
          const updated =
            previous && sameFixedFields(v, previous)
              ? s.updateVerificationChanging.run({ ...changingRow(v), expected_version: expectedVersion })
              : s.updateVerification.run({ ...verificationRow(v), expected_version: expectedVersion });
          if (updated.changes !== 1) throw new Abort("version_conflict");
          for (const a of v.attempts) {
            const row = attemptRow(a);
            const old = previous?.attempts.find((p) => p.id === a.id);
            if (!old) {
              s.upsertAttempt.run(row);
              continue;
            }
            const before = attemptRow(old);
            if (!sameColumns(row, before, ATTEMPT_FIXED)) s.upsertAttempt.run(row);
            // An attempt the change left as it was is not written again (a check changes none).
            else if (!sameColumns(row, before, ATTEMPT_CHANGING)) s.updateAttemptChanging.run(row);
          }
          if (releaseLeases) s.releaseLeases.run({ id: v.id });
          this.insertEvents(events, v.applicationId);
          if (wakeAt === null) s.deleteTimer.run({ verification_id: v.id });
          else if (wakeAt !== undefined) s.upsertTimer.run({ verification_id: v.id, due_at: wakeAt });
        },
        () => this.recent.remember(v),
      );
      return true;
    } catch (error) {
      if (!(error instanceof Abort)) throw error;
      this.recent.delete(v.id);
      return false;
    }
  }

  /** Inside a write: the events, and the outbox's delivery rows for the endpoints that want each one. */
  private insertEvents(events: DomainEvent[], applicationId: string): void {
    const s = this.s;
    const endpoints = this.listeners.get(applicationId);
    for (const row of eventRows(events, applicationId)) {
      const inserted = s.insertEvent.run(row);
      if (!endpoints) continue;
      for (const endpoint of endpoints) {
        if (endpoint.types && !endpoint.types.has(row.type)) continue;
        s.insertDelivery.run({
          id: deliveryId(row.id, endpoint.id),
          endpoint_id: endpoint.id,
          event_seq: inserted.lastInsertRowid,
          event_id: row.id,
          verification_id: row.verification_id,
          now: row.created_at,
        });
      }
    }
  }

  /** Queues `write` for the next group commit (see GroupCommit); `committed` runs after it, in commit order. */
  private write(write: () => void, committed?: () => void): Promise<void> {
    return this.commits.write(write, committed);
  }

  override async liveReverseAttempts(now: number, dial?: string, phone?: string): Promise<ReverseAttemptRef[]> {
    const s = this.s;
    const rows = (
      dial === undefined
        ? s.liveReverseAll.all({ now })
        : phone === undefined
          ? s.liveReverse.all({ now, dial })
          : s.liveReverseOfPhone.all({ now, dial, phone })
    ) as Parameters<typeof toReverseRef>[0][];
    return rows.map(toReverseRef);
  }

  override async liveLeaseKeys(poolId: string, now: number): Promise<Set<string>> {
    const rows = this.s.liveLeaseKeys.all({ pool_id: poolId, now }) as { cli_key: string }[];
    return new Set(rows.map((r) => r.cli_key));
  }

  async lastCliKey(phone: string): Promise<string | undefined> {
    const row = this.s.lastCliKey.get({ phone }) as { cli_key: string } | undefined;
    return row?.cli_key;
  }

  override async listWithLiveAttempts(limit: number): Promise<string[]> {
    const rows = this.s.listWithLiveAttempts.all({ limit }) as { verification_id: string }[];
    return rows.map((r) => r.verification_id);
  }

  override async claimTimers(now: number, claimUntil: number, limit: number): Promise<string[]> {
    const rows = this.s.claimTimers.all({ now, claim_until: claimUntil, limit }) as { verification_id: string }[];
    return rows.map((r) => r.verification_id);
  }

  override async setTimer(verificationId: string, wakeAt: number | null): Promise<void> {
    const s = this.s;
    await this.write(() => {
      if (wakeAt === null) s.deleteTimer.run({ verification_id: verificationId });
      else s.upsertTimer.run({ verification_id: verificationId, due_at: wakeAt });
    });
  }

  override async listEvents(verificationId: string, afterSeq = 0): Promise<StoredEvent[]> {
    const rows = this.s.listEvents.all({ id: verificationId, after: afterSeq }) as (EventsTable & { seq: number })[];
    return rows.map(toStoredEvent);
  }

  // Fraud rules change rarely (admin calls, detector trips): the shared Kysely queries serve them, except the
  // write, which joins the group commit so that it and its events commit with everything else of that turn.
  override async insertFraudRule(rule: FraudRule, events: DomainEvent[]): Promise<void> {
    const s = this.s;
    await this.write(() => {
      s.insertFraudRule.run(fraudRuleRow(rule));
      this.insertEvents(events, rule.applicationId);
    });
  }
}
