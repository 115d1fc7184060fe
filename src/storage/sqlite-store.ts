/**
 * The default store: SQLite through better-sqlite3 directly, with every statement prepared once and every
 * transaction run synchronously. The schema and migrations are the shared Kysely ones (see KyselyStore, which
 * serves the same port over any Kysely dialect); this store exists because on the hot path Kysely's per-query
 * compilation and its async connection mutex cost several times what SQLite itself does.
 */
import type SqliteDatabase from "better-sqlite3";
import type { Statement } from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import type { DeliveryCountsStore } from "../core/delivery-measure.js";
import type {
  ApplicationRecord,
  AttemptBucketRow,
  AttemptGroupRow,
  BlockGroupRow,
  DeliveryGroupRow,
  OperatorStore,
  StatsRange,
  StoredApiKey,
  VerificationBucketRow,
  VerificationGroupRow,
  VerificationQuery,
} from "../core/operator-store.js";
import type {
  ApiKeyRecord,
  FraudRule,
  IdempotencyRecord,
  NewVerification,
  ReverseAttemptRef,
  Store,
  StoredEvent,
  StoredPool,
} from "../core/ports.js";
import type { RetentionSource, RetentionStore } from "../core/retention.js";
import type { ReviewNumberStore } from "../core/review-numbers.js";
import type { SinchStore } from "../core/sinch-credentials.js";
import type { TemplateStore } from "../core/templates/template-book.js";
import type { DomainEvent, Verification } from "../core/types.js";
import type {
  ClaimedDelivery,
  DecisionCallback,
  DeliveryAttempt,
  DeliveryResult,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookStore,
} from "../events/webhook-store.js";
import { KyselyStore, toReverseRef } from "./kysely-store.js";
import type { OperationalStats, OperationalStatsSource } from "./operational-stats.js";
import { sqliteRetention } from "./retention-sqlite.js";
import {
  attemptRow,
  deliveryAttemptRow,
  deliveryId,
  eventRows,
  fraudRuleRow,
  idempotencyRow,
  leaseRow,
  toAttempt,
  toDelivery,
  toEndpoint,
  toIdempotencyRecord,
  toStoredEvent,
  toVerification,
  VERIFICATION_COLUMNS,
  verificationRow,
} from "./rows.js";
import type {
  AttemptsTable,
  Database,
  EventsTable,
  IdempotencyKeysTable,
  VerificationsTable,
  WebhookDeliveriesTable,
  WebhookEndpointsTable,
} from "./schema.js";

const ATTEMPT_COLUMNS = [
  "id",
  "verification_id",
  "seq",
  "channel",
  "status",
  "reason",
  "sip_code",
  "pool_id",
  "cli_key",
  "cli_prefix",
  "code_length",
  "code_mac",
  "created_at",
  "dialed_at",
  "ringing_at",
  "ended_at",
  "expires_at",
  "trunk_id",
  "invited_at",
  "reason_header",
  "detail",
  "cost",
  "phone_report",
  "dial",
] as const satisfies readonly (keyof AttemptsTable)[];

/**
 * The columns of a verification that a transition may change. A save whose verification keeps all the others (see
 * `sameFixedFields`) writes only these, so the JSON of the fixed ones is not serialised again.
 */
const VERIFICATION_CHANGING = [
  "status",
  "reason",
  "checks_used",
  "guess_probability",
  "verified_caller_id",
  "updated_at",
  "expires_at",
  "ended_at",
  "version",
  "workflow",
  "step",
  "step_deadline",
] as const satisfies readonly (keyof VerificationsTable)[];

/** The same for attempts: what a call or message records as it progresses is all in the other columns. */
const ATTEMPT_FIXED = new Set<keyof AttemptsTable>([
  "id",
  "verification_id",
  "seq",
  "channel",
  "pool_id",
  "cli_key",
  "cli_prefix",
  "code_length",
  "code_mac",
  "created_at",
  "dial",
]);
const ATTEMPT_CHANGING = ATTEMPT_COLUMNS.filter((c) => !ATTEMPT_FIXED.has(c));

const insertSql = (table: string, columns: readonly string[]) =>
  `insert into ${table} (${columns.join(", ")}) values (${columns.map((c) => `@${c}`).join(", ")})`;
const assignments = (columns: readonly string[]) =>
  columns
    .filter((c) => c !== "id")
    .map((c) => `${c} = @${c}`)
    .join(", ");

/** Why a write gave up; thrown inside it so that everything it wrote rolls back. */
class Abort extends Error {
  constructor(readonly outcome: "cli_taken" | "idempotency_taken" | "version_conflict") {
    super(outcome);
  }
}

interface PendingWrite {
  write: () => void;
  /** runs once the write's batch has committed, before its promise resolves */
  committed: (() => void) | undefined;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * How many recently written verifications are kept as committed. A live verification is read several times within
 * seconds of its writes (call progress, its checks); a few thousand entries cover every one in flight at thousands
 * per second, and a miss reads the database.
 */
const RECENT_VERIFICATIONS = 4096;
/**
 * How long a group commit waits for its turn of the event loop to end. A busy turn (many requests read in one poll)
 * would otherwise hold its first writes, and the calls they start, until every request of the turn is done; past
 * this, the next write commits the group in a microtask. Measured by `npm run bench` at 700/s: the server's p99 from
 * creating a verification to sending its INVITE went from 8-22 ms to 5-6 ms.
 */
const MAX_GROUP_MS = 2;

type Statements = ReturnType<typeof prepareStatements>;

/**
 * Writes are group-committed: the writes requested during one turn of the event loop run in one transaction, each
 * inside its own savepoint so that one write giving up (a taken CLI, a version conflict) rolls back only itself.
 * A commit costs far more than the statements of one write (WAL frames for every touched page), and a busy
 * server issues hundreds of writes per turn. Each write's promise resolves only after its batch has committed.
 */
export class SqliteStore implements Store, WebhookStore, OperatorStore, OperationalStatsSource, RetentionSource {
  private readonly kysely: KyselyStore;
  /** the templates aggregate: its own port, over the same connection */
  readonly templates: TemplateStore;
  /** the review numbers aggregate: its own port, over the same connection */
  readonly reviewNumbers: ReviewNumberStore;
  /** the delivery measurement's counters (through Kysely: one statement a second) */
  readonly delivery: DeliveryCountsStore;
  private statements: Statements | undefined;
  private pending: PendingWrite[] = [];
  /** when the first of `pending` was queued, and whether its group is already set to commit in a microtask */
  private groupOpenedAt = 0;
  private earlyCommit = false;
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
  private readonly recent = new Map<string, Verification>();

  /**
   * @param db the connection; public so the SQLite rate-limiter backend can keep its counters in the same file
   * @param onClose stops what runs beside the connection (the WAL checkpointer), before it closes
   */
  constructor(
    readonly db: SqliteDatabase.Database,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {
    // Kysely serves the migrations and the rarely used administrative queries over the same connection.
    this.kysely = new KyselyStore(new Kysely<Database>({ dialect: new SqliteDialect({ database: db }) }));
    this.templates = this.kysely.templates;
    this.reviewNumbers = this.kysely.reviewNumbers;
    this.delivery = this.kysely.delivery;
  }

  /** The prepared statements; they need the tables, so they exist only once `migrate()` has run. */
  private get s(): Statements {
    if (!this.statements) throw new Error("SqliteStore: call migrate() before using the store");
    return this.statements;
  }

  async migrate(): Promise<void> {
    await this.kysely.migrate();
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

  async close(): Promise<void> {
    if (this.pending.length > 0) this.commitPending();
    await this.onClose();
    await this.kysely.close();
  }

  async ping(): Promise<void> {
    this.db.prepare("select 1").get();
  }

  /** the Sinch-compatible API's credentials and lookups (rare administrative reads, through Kysely) */
  get sinch(): SinchStore {
    return this.kysely.sinch;
  }

  operationalStats(now: number): Promise<OperationalStats> {
    return this.kysely.operationalStats(now);
  }

  ensureApplication(app: { id: string; name: string; createdAt: number }): Promise<void> {
    return this.kysely.ensureApplication(app);
  }

  insertApiKey(key: ApiKeyRecord): Promise<void> {
    return this.kysely.insertApiKey(key);
  }

  findApiKey(keyHash: string): Promise<ApiKeyRecord | undefined> {
    return this.kysely.findApiKey(keyHash);
  }

  upsertPool(pool: StoredPool): Promise<void> {
    return this.kysely.upsertPool(pool);
  }

  listPools(): Promise<StoredPool[]> {
    return this.kysely.listPools();
  }

  getOrCreateSetting(name: string, value: string): Promise<string> {
    return this.kysely.getOrCreateSetting(name, value);
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
        () => this.remember(v),
      );
      return "created";
    } catch (error) {
      if (error instanceof Abort && error.outcome !== "version_conflict") return error.outcome;
      throw error;
    }
  }

  async findIdempotency(applicationId: string, key: string): Promise<IdempotencyRecord | undefined> {
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
  retentionStore(): RetentionStore {
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
        () => this.remember(v),
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

  private remember(v: Verification): void {
    // Re-inserted so the Map's order is the order of writes, and the first key the least recently written.
    this.recent.delete(v.id);
    this.recent.set(v.id, v);
    if (this.recent.size > RECENT_VERIFICATIONS) {
      for (const oldest of this.recent.keys()) {
        this.recent.delete(oldest);
        break;
      }
    }
  }

  /**
   * Queues `write` for the next group commit; resolves once it has committed, rejects if it threw. `committed`
   * runs after the commit, in commit order.
   */
  private write(write: () => void, committed?: () => void): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.pending.length === 0) {
        this.groupOpenedAt = performance.now();
        setImmediate(() => this.commitPending());
      } else if (!this.earlyCommit && performance.now() - this.groupOpenedAt >= MAX_GROUP_MS) {
        this.earlyCommit = true;
        queueMicrotask(() => this.commitPending());
      }
      this.pending.push({ write, committed, resolve, reject });
    });
  }

  private commitPending(): void {
    this.earlyCommit = false;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const s = this.s;
    const failures = new Map<PendingWrite, unknown>();
    try {
      this.db.transaction(() => {
        for (const item of batch) {
          s.savepoint.run();
          try {
            item.write();
            s.releaseSavepoint.run();
          } catch (error) {
            s.rollbackToSavepoint.run();
            s.releaseSavepoint.run();
            failures.set(item, error);
          }
        }
      })();
    } catch (error) {
      // The commit itself failed: nothing of the batch was written.
      for (const item of batch) item.reject(error);
      return;
    }
    for (const item of batch) {
      if (failures.has(item)) continue;
      item.committed?.();
    }
    for (const item of batch) {
      if (failures.has(item)) item.reject(failures.get(item));
      else item.resolve();
    }
  }

  async liveReverseAttempts(now: number, dial?: string, phone?: string): Promise<ReverseAttemptRef[]> {
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

  async liveLeaseKeys(poolId: string, now: number): Promise<Set<string>> {
    const rows = this.s.liveLeaseKeys.all({ pool_id: poolId, now }) as { cli_key: string }[];
    return new Set(rows.map((r) => r.cli_key));
  }

  async lastCliKey(phone: string): Promise<string | undefined> {
    const row = this.s.lastCliKey.get({ phone }) as { cli_key: string } | undefined;
    return row?.cli_key;
  }

  async listWithLiveAttempts(limit: number): Promise<string[]> {
    const rows = this.s.listWithLiveAttempts.all({ limit }) as { verification_id: string }[];
    return rows.map((r) => r.verification_id);
  }

  async claimTimers(now: number, claimUntil: number, limit: number): Promise<string[]> {
    const rows = this.s.claimTimers.all({ now, claim_until: claimUntil, limit }) as { verification_id: string }[];
    return rows.map((r) => r.verification_id);
  }

  async setTimer(verificationId: string, wakeAt: number | null): Promise<void> {
    const s = this.s;
    await this.write(() => {
      if (wakeAt === null) s.deleteTimer.run({ verification_id: verificationId });
      else s.upsertTimer.run({ verification_id: verificationId, due_at: wakeAt });
    });
  }

  releaseAllClaims(): Promise<void> {
    return this.kysely.releaseAllClaims();
  }

  async listEvents(verificationId: string, afterSeq = 0): Promise<StoredEvent[]> {
    const rows = this.s.listEvents.all({ id: verificationId, after: afterSeq }) as (EventsTable & { seq: number })[];
    return rows.map(toStoredEvent);
  }

  listApplicationEvents(applicationId: string, afterSeq: number, limit: number): Promise<StoredEvent[]> {
    return this.kysely.listApplicationEvents(applicationId, afterSeq, limit);
  }

  findEvent(id: string): Promise<(StoredEvent & { applicationId: string | null }) | undefined> {
    return this.kysely.findEvent(id);
  }

  async insertEndpoint(endpoint: WebhookEndpoint): Promise<void> {
    await this.kysely.insertEndpoint(endpoint);
    this.loadListeners();
  }

  getEndpoint(id: string): Promise<WebhookEndpoint | undefined> {
    return this.kysely.getEndpoint(id);
  }

  listEndpoints(applicationId: string): Promise<WebhookEndpoint[]> {
    return this.kysely.listEndpoints(applicationId);
  }

  async updateEndpoint(endpoint: WebhookEndpoint): Promise<void> {
    await this.kysely.updateEndpoint(endpoint);
    this.loadListeners();
  }

  async deleteEndpoint(id: string, now: number): Promise<void> {
    await this.kysely.deleteEndpoint(id, now);
    this.loadListeners();
  }

  async claimDeliveries(now: number, claimUntil: number, limit: number): Promise<ClaimedDelivery[]> {
    const s = this.s;
    const claimed = this.db.transaction(() => {
      const rows = s.claimDeliveries.all({ now, claim_until: claimUntil, limit }) as WebhookDeliveriesTable[];
      const endpoints = new Map<string, WebhookEndpoint>();
      const out: ClaimedDelivery[] = [];
      for (const row of rows) {
        const event = s.eventBySeq.get({ seq: row.event_seq }) as (EventsTable & { seq: number }) | undefined;
        let endpoint = endpoints.get(row.endpoint_id);
        if (!endpoint) {
          const e = s.endpointById.get({ id: row.endpoint_id }) as WebhookEndpointsTable | undefined;
          if (e) endpoint = toEndpoint(e);
          if (endpoint) endpoints.set(endpoint.id, endpoint);
        }
        if (event && endpoint) out.push({ delivery: toDelivery(row), event: toStoredEvent(event), endpoint });
      }
      return out;
    })();
    // `returning` gives no order: restore the event order the worker sends in.
    return claimed.sort((a, b) => a.delivery.eventSeq - b.delivery.eventSeq);
  }

  async renewClaims(ids: readonly string[], claimedUntil: number, until: number): Promise<number> {
    const s = this.s;
    let renewed = 0;
    await this.write(() => {
      for (const id of ids) renewed += s.renewClaim.run({ id, claimed_until: claimedUntil, until }).changes;
    });
    return renewed;
  }

  async completeDeliveries(results: DeliveryResult[], released: string[] = []): Promise<void> {
    const s = this.s;
    await this.write(() => {
      for (const id of released) s.releaseDelivery.run({ id });
      for (const r of results) {
        s.insertDeliveryAttempt.run(deliveryAttemptRow(r.attempt));
        s.completeDelivery.run({
          id: r.deliveryId,
          status: r.status,
          next_attempt_at: r.nextAttemptAt,
          status_code: r.attempt.statusCode,
          error: r.attempt.error,
          latency_ms: r.attempt.latencyMs,
          ended_at: r.status === "pending" ? null : r.attempt.attemptedAt,
        });
        if (r.status === "pending") s.deferChain.run({ id: r.deliveryId, next_attempt_at: r.nextAttemptAt });
        if (r.disableEndpoint) {
          s.disableEndpoint.run({ id: r.attempt.endpointId, reason: r.disableEndpoint, now: r.attempt.attemptedAt });
        }
      }
    });
    if (results.some((r) => r.disableEndpoint)) this.loadListeners();
  }

  listDeliveries(endpointId: string, limit: number, before?: number): Promise<WebhookDelivery[]> {
    return this.kysely.listDeliveries(endpointId, limit, before);
  }

  getDelivery(id: string): Promise<{ delivery: WebhookDelivery; attempts: DeliveryAttempt[] } | undefined> {
    return this.kysely.getDelivery(id);
  }

  replayDelivery(id: string, now: number): Promise<boolean> {
    return this.kysely.replayDelivery(id, now);
  }

  getDecisionCallback(applicationId: string): Promise<DecisionCallback | undefined> {
    return this.kysely.getDecisionCallback(applicationId);
  }

  putDecisionCallback(callback: DecisionCallback): Promise<void> {
    return this.kysely.putDecisionCallback(callback);
  }

  deleteDecisionCallback(applicationId: string): Promise<boolean> {
    return this.kysely.deleteDecisionCallback(applicationId);
  }

  // Fraud rules change rarely (admin calls, detector trips): the shared Kysely queries serve them, except the
  // write, which joins the group commit so that it and its events commit with everything else of that turn.
  async insertFraudRule(rule: FraudRule, events: DomainEvent[]): Promise<void> {
    const s = this.s;
    await this.write(() => {
      s.insertFraudRule.run(fraudRuleRow(rule));
      this.insertEvents(events, rule.applicationId);
    });
  }

  listFraudRules(since: number): Promise<FraudRule[]> {
    return this.kysely.listFraudRules(since);
  }

  deleteFraudRule(applicationId: string, id: string): Promise<boolean> {
    return this.kysely.deleteFraudRule(applicationId, id);
  }

  // The operator's views read rarely and in bulk: the shared Kysely queries serve them.
  listApplications(): Promise<ApplicationRecord[]> {
    return this.kysely.listApplications();
  }

  listApiKeys(applicationId: string): Promise<StoredApiKey[]> {
    return this.kysely.listApiKeys(applicationId);
  }

  revokeApiKey(applicationId: string, id: string, now: number): Promise<boolean> {
    return this.kysely.revokeApiKey(applicationId, id, now);
  }

  listVerifications(query: VerificationQuery): Promise<Verification[]> {
    return this.kysely.listVerifications(query);
  }

  verificationBuckets(range: StatsRange, bucketMs: number): Promise<VerificationBucketRow[]> {
    return this.kysely.verificationBuckets(range, bucketMs);
  }

  verificationGroups(range: StatsRange): Promise<VerificationGroupRow[]> {
    return this.kysely.verificationGroups(range);
  }

  attemptGroups(range: StatsRange): Promise<AttemptGroupRow[]> {
    return this.kysely.attemptGroups(range);
  }

  attemptBuckets(range: StatsRange, bucketMs: number): Promise<AttemptBucketRow[]> {
    return this.kysely.attemptBuckets(range, bucketMs);
  }

  timeToVerify(range: StatsRange, fractions: readonly number[]): Promise<{ count: number; values: (number | null)[] }> {
    return this.kysely.timeToVerify(range, fractions);
  }

  blockGroups(range: StatsRange): Promise<BlockGroupRow[]> {
    return this.kysely.blockGroups(range);
  }

  deliveryGroups(range: StatsRange): Promise<DeliveryGroupRow[]> {
    return this.kysely.deliveryGroups(range);
  }

  latestEventSeq(applicationId: string): Promise<number> {
    return this.kysely.latestEventSeq(applicationId);
  }

  liveLeaseCounts(now: number): Promise<Map<string, number>> {
    return this.kysely.liveLeaseCounts(now);
  }
}

function sameColumns(a: AttemptsTable, b: AttemptsTable, columns: Iterable<keyof AttemptsTable>): boolean {
  for (const column of columns) if (a[column] !== b[column]) return false;
  return true;
}

/**
 * True when `v` keeps every column of `previous` outside VERIFICATION_CHANGING. The domain copies a verification shallowly, so its JSON
 * fields are the same objects unless a change replaced them.
 */
function sameFixedFields(v: Verification, previous: Verification): boolean {
  return (
    v.id === previous.id &&
    v.applicationId === previous.applicationId &&
    v.phone === previous.phone &&
    v.country === previous.country &&
    v.reference === previous.reference &&
    v.metadata === previous.metadata &&
    v.client === previous.client &&
    v.clientTokenHash === previous.clientTokenHash &&
    v.maxChecks === previous.maxChecks &&
    v.risk === previous.risk &&
    v.createdAt === previous.createdAt &&
    v.email === previous.email
  );
}

/** The id and the columns of VERIFICATION_CHANGING. */
function changingRow(v: Verification): Pick<VerificationsTable, "id" | (typeof VERIFICATION_CHANGING)[number]> {
  return {
    id: v.id,
    status: v.status,
    reason: v.reason,
    checks_used: v.checksUsed,
    guess_probability: v.guessProbability,
    verified_caller_id: v.verifiedCallerId,
    updated_at: v.updatedAt,
    expires_at: v.expiresAt,
    ended_at: v.endedAt,
    version: v.version,
    workflow: JSON.stringify(v.workflow),
    step: v.step,
    step_deadline: v.stepDeadline,
  };
}

/**
 * Claims due timers. The inner select is where PostgreSQL adds `for update skip locked` so that several nodes
 * claim disjoint rows; SQLite has one writer, so the update alone is atomic.
 */
export const CLAIM_TIMERS_SQL = `update timers set claimed_until = @claim_until
  where verification_id in (select verification_id from timers where due_at <= @now and claimed_until <= @now
    order by due_at limit @limit)
  returning verification_id`;

/**
 * Claims due deliveries: the heads of chains (a verification's oldest pending delivery to an endpoint, due and
 * unclaimed), oldest due first through the due index, each with the rest of its chain, which waits behind the head
 * for everyone else. A chain's order holds because nothing but its head is ever claimable; the cost follows the
 * batch, not the backlog (each candidate's chain is probed through its index). PostgreSQL runs the same claim as
 * migration 0011's function.
 */
export const CLAIM_DELIVERIES_SQL = `with heads as (
    select d.id, d.endpoint_id, d.verification_id, d.event_seq from webhook_deliveries d
    where d.status = 'pending' and d.next_attempt_at <= @now and d.claimed_until <= @now
      and not exists (select 1 from webhook_deliveries p
        where p.endpoint_id = d.endpoint_id and p.verification_id = d.verification_id
          and p.event_seq < d.event_seq and p.status = 'pending')
      and exists (select 1 from webhook_endpoints w where w.id = d.endpoint_id and w.enabled = 1)
    order by d.next_attempt_at limit @limit)
  update webhook_deliveries set claimed_until = @claim_until
  where id in (select id from heads)
    or id in (select p.id from heads h join webhook_deliveries p on p.endpoint_id = h.endpoint_id
      and p.verification_id = h.verification_id and p.event_seq > h.event_seq and p.status = 'pending')
  returning *`;

function prepareStatements(db: SqliteDatabase.Database) {
  const statement = (sql: string): Statement => db.prepare(sql);
  return {
    claimIdempotency: statement(
      `${insertSql("idempotency_keys", ["application_id", "key", "request_hash", "verification_id", "created_at"])}
       on conflict (application_id, key) do nothing`,
    ),
    findIdempotency: statement("select * from idempotency_keys where application_id = @application_id and key = @key"),
    // A lease is free when absent or stale (its verification cannot be live any more).
    takeLease: statement(
      `${insertSql("cli_leases", ["pool_id", "cli_key", "verification_id", "expires_at"])}
       on conflict (cli_key) do update set pool_id = excluded.pool_id, verification_id = excluded.verification_id,
         expires_at = excluded.expires_at where cli_leases.expires_at < @now`,
    ),
    releaseLeases: statement("delete from cli_leases where verification_id = @id"),
    liveReverse: statement(
      `select a.verification_id, v.phone, a.dial, a.expires_at from attempts a join verifications v
       on v.id = a.verification_id where a.dial = @dial and a.expires_at > @now and v.status = 'pending'`,
    ),
    liveReverseOfPhone: statement(
      `select a.verification_id, v.phone, a.dial, a.expires_at from verifications v join attempts a
       on a.verification_id = v.id where v.phone = @phone and v.status = 'pending' and a.dial = @dial
       and a.expires_at > @now`,
    ),
    liveReverseAll: statement(
      `select a.verification_id, v.phone, a.dial, a.expires_at from attempts a join verifications v
       on v.id = a.verification_id where a.dial is not null and a.expires_at > @now and v.status = 'pending'`,
    ),
    liveLeaseKeys: statement("select cli_key from cli_leases where pool_id = @pool_id and expires_at >= @now"),
    insertVerification: statement(insertSql("verifications", VERIFICATION_COLUMNS)),
    updateVerification: statement(
      `update verifications set ${assignments(VERIFICATION_COLUMNS)} where id = @id and version = @expected_version`,
    ),
    updateVerificationChanging: statement(
      `update verifications set ${assignments(VERIFICATION_CHANGING)} where id = @id and version = @expected_version`,
    ),
    getVerification: statement("select * from verifications where id = @id"),
    insertAttempt: statement(insertSql("attempts", ATTEMPT_COLUMNS)),
    upsertAttempt: statement(
      `${insertSql("attempts", ATTEMPT_COLUMNS)} on conflict (id) do update set ${assignments(ATTEMPT_COLUMNS)}`,
    ),
    updateAttemptChanging: statement(`update attempts set ${assignments(ATTEMPT_CHANGING)} where id = @id`),
    getAttempts: statement("select * from attempts where verification_id = @id order by seq"),
    setLastCli: statement(
      "insert into phone_last_cli (phone, cli_key) values (@phone, @cli_key) on conflict (phone) do update set cli_key = excluded.cli_key",
    ),
    lastCliKey: statement("select cli_key from phone_last_cli where phone = @phone"),
    listWithLiveAttempts: statement(
      `select distinct verification_id from attempts where status in ('dialing', 'ringing')
       order by verification_id limit @limit`,
    ),
    insertEvent: statement(
      insertSql("events", ["id", "verification_id", "application_id", "attempt_id", "type", "data", "created_at"]),
    ),
    insertDelivery: statement(
      `insert into webhook_deliveries (id, endpoint_id, event_seq, event_id, verification_id, status, attempts,
         next_attempt_at, claimed_until, created_at)
       values (@id, @endpoint_id, @event_seq, @event_id, @verification_id, 'pending', 0, @now, 0, @now)`,
    ),
    enabledEndpoints: statement("select id, application_id, event_types from webhook_endpoints where enabled = 1"),
    listEvents: statement("select * from events where verification_id = @id and seq > @after order by seq"),
    eventBySeq: statement("select * from events where seq = @seq"),
    upsertTimer: statement(
      `insert into timers (verification_id, due_at, claimed_until) values (@verification_id, @due_at, 0)
       on conflict (verification_id) do update set due_at = excluded.due_at, claimed_until = 0`,
    ),
    deleteTimer: statement("delete from timers where verification_id = @verification_id"),
    claimTimers: statement(CLAIM_TIMERS_SQL),
    claimDeliveries: statement(CLAIM_DELIVERIES_SQL),
    endpointById: statement("select * from webhook_endpoints where id = @id"),
    insertDeliveryAttempt: statement(
      insertSql("webhook_attempts", [
        "id",
        "delivery_id",
        "endpoint_id",
        "attempted_at",
        "status_code",
        "latency_ms",
        "error",
      ]),
    ),
    completeDelivery: statement(
      `update webhook_deliveries set status = @status, attempts = attempts + 1, next_attempt_at = @next_attempt_at,
         claimed_until = 0, last_status_code = @status_code, last_error = @error, last_latency_ms = @latency_ms,
         ended_at = @ended_at
       where id = @id`,
    ),
    releaseDelivery: statement("update webhook_deliveries set claimed_until = 0 where id = @id"),
    renewClaim: statement(
      `update webhook_deliveries set claimed_until = @until
       where id = @id and claimed_until = @claimed_until and status = 'pending'`,
    ),
    // The rest of a chain waits behind its head: out of the due range while the head backs off.
    deferChain: statement(
      `update webhook_deliveries set next_attempt_at = @next_attempt_at
       where status = 'pending' and next_attempt_at < @next_attempt_at
         and endpoint_id = (select endpoint_id from webhook_deliveries where id = @id)
         and verification_id = (select verification_id from webhook_deliveries where id = @id)
         and event_seq > (select event_seq from webhook_deliveries where id = @id)`,
    ),
    disableEndpoint: statement(
      "update webhook_endpoints set enabled = 0, disabled_reason = @reason, updated_at = @now where id = @id",
    ),
    insertFraudRule: statement(
      insertSql("fraud_rules", [
        "id",
        "application_id",
        "list",
        "scope",
        "value",
        "reason",
        "source",
        "shadow",
        "created_at",
        "expires_at",
      ]),
    ),
    savepoint: statement("savepoint write"),
    releaseSavepoint: statement("release write"),
    rollbackToSavepoint: statement("rollback to write"),
  };
}
