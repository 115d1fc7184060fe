/**
 * What the SQLite and PostgreSQL stores share, over Kysely: the migrations, the cold and administrative queries
 * (applications, keys, pools, settings, events read back, fraud rules, timers' claims) and the aggregates' own
 * ports (operator, webhooks, templates, review numbers, Sinch, delivery counts). The hot path of a verification
 * (create, read, save) is each database's own and only there: SqliteStore's prepared statements, PostgresStore's
 * PL/pgSQL functions. On PostgreSQL work is claimed with `FOR UPDATE SKIP LOCKED`, so that several server
 * processes claim disjoint timers and deliveries.
 */
import { type Kysely, Migrator, type SelectQueryBuilder, sql } from "kysely";
import type { DeliveryCountsStore } from "../core/delivery-measure.js";
import type { OperatorStore } from "../core/operator-store.js";
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
import type { TemplateStore } from "../core/templates/template-book.js";
import type { DomainEvent, Verification } from "../core/types.js";
import type { WebhookStore } from "../events/webhook-store.js";
import { DeliveryQueries } from "./delivery-queries.js";
import { insertEvents, setTimer, toReverseRef } from "./kysely-writes.js";
import { migrationProvider } from "./migrations/index.js";
import {
  type ConnectionPoolStats,
  type OperationalStats,
  type OperationalStatsSource,
  readOperationalStats,
} from "./operational-stats.js";
import { OperatorQueries } from "./operator-queries.js";
import { kyselyRetention } from "./retention-kysely.js";
import { ReviewNumberQueries } from "./review-number-queries.js";
import { fraudRuleRow, toFraudRule, toIdempotencyRecord, toStoredEvent } from "./rows.js";
import type { Database } from "./schema.js";
import { SinchQueries } from "./sinch-queries.js";
import { TemplateQueries } from "./template-queries.js";
import { WebhookQueries } from "./webhook-queries.js";

export interface KyselyStoreOptions {
  /** PostgreSQL: lock the rows a claim picks and skip rows another transaction holds */
  skipLocked?: boolean;
  /** the connection pool's state, for /metrics */
  connections?: () => ConnectionPoolStats;
}

export abstract class KyselyStore implements Store, OperationalStatsSource, RetentionSource {
  /** the operator's views: rarely read, in bulk, dialect-neutral queries of their own file */
  readonly operator: OperatorStore;
  /** the Sinch-compatible API's credentials and lookups */
  readonly sinch: SinchQueries;
  /** the templates aggregate: its own port, over the same connection */
  readonly templates: TemplateStore;
  /** the review numbers aggregate: its own port, over the same connection */
  readonly reviewNumbers: ReviewNumberStore;
  /** the delivery measurement's counters, shared by every node */
  readonly delivery: DeliveryCountsStore;
  /** webhook endpoints, their deliveries and the decision callbacks: their own port, over the same connection */
  readonly webhooks: WebhookStore;

  constructor(
    protected readonly kysely: Kysely<Database>,
    private readonly options: KyselyStoreOptions = {},
    webhooks?: WebhookStore,
  ) {
    this.webhooks = webhooks ?? new WebhookQueries(kysely, options.skipLocked === true);
    this.operator = new OperatorQueries(kysely);
    this.sinch = new SinchQueries(kysely);
    this.templates = new TemplateQueries(kysely);
    this.reviewNumbers = new ReviewNumberQueries(kysely);
    this.delivery = new DeliveryQueries(kysely);
  }

  /** The rows a claim picks: locked, and skipping those another node is claiming, where the database can. */
  // biome-ignore lint/suspicious/noExplicitAny: applies to any claim's select
  private claimable<Q extends SelectQueryBuilder<any, any, any>>(query: Q): Q {
    return (this.options.skipLocked ? query.forUpdate().skipLocked() : query) as Q;
  }

  async migrate(): Promise<void> {
    // Migration numbers are reserved per area (0002 events, 0003 fraud, 0004 SIP trunks) and land in any order, so a
    // database may have run 0004 before 0003 existed: run the missing ones rather than refuse.
    // On PostgreSQL the migration tables are looked up in the connection's own schema: Kysely otherwise takes a
    // table of that name in any schema as ours, and two databases sharing a server (schemas) would confuse it.
    const migrationTableSchema = this.options.skipLocked
      ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(this.kysely)).rows[0]?.schema
      : undefined;
    const migrator = new Migrator({
      db: this.kysely,
      provider: migrationProvider,
      allowUnorderedMigrations: true,
      ...(migrationTableSchema ? { migrationTableSchema } : {}),
    });
    const { error, results } = await migrator.migrateToLatest();
    const failed = results?.find((r) => r.status === "Error");
    if (error || failed) {
      throw new Error(`migration ${failed?.migrationName ?? ""} failed: ${String(error)}`, { cause: error });
    }
  }

  async close(): Promise<void> {
    await this.kysely.destroy();
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.kysely);
  }

  async operationalStats(now: number): Promise<OperationalStats> {
    return { ...(await readOperationalStats(this.kysely, now)), connections: this.options.connections?.() ?? null };
  }

  async ensureApplication(app: { id: string; name: string; createdAt: number }): Promise<void> {
    await this.kysely
      .insertInto("applications")
      .values({ id: app.id, name: app.name, created_at: app.createdAt })
      .onConflict((oc) => oc.column("id").doNothing())
      .execute();
  }

  async insertApiKey(key: ApiKeyRecord): Promise<void> {
    await this.kysely
      .insertInto("api_keys")
      .values({
        id: key.id,
        application_id: key.applicationId,
        key_hash: key.keyHash,
        label: key.label,
        created_at: key.createdAt,
      })
      .onConflict((oc) => oc.column("key_hash").doNothing())
      .execute();
  }

  async findApiKey(keyHash: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.kysely
      .selectFrom("api_keys")
      .selectAll()
      .where("key_hash", "=", keyHash)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      id: row.id,
      applicationId: row.application_id,
      keyHash: row.key_hash,
      label: row.label,
      createdAt: Number(row.created_at),
    };
  }

  async upsertPool(pool: StoredPool): Promise<void> {
    const values = {
      id: pool.id,
      name: pool.name,
      numbers: JSON.stringify(pool.numbers),
      code_length: pool.codeLength,
      countries: JSON.stringify(pool.countries),
      created_at: pool.createdAt,
    };
    await this.kysely
      .insertInto("pools")
      .values(values)
      .onConflict((oc) =>
        oc.column("id").doUpdateSet({
          name: values.name,
          numbers: values.numbers,
          code_length: values.code_length,
          countries: values.countries,
        }),
      )
      .execute();
  }

  async listPools(): Promise<StoredPool[]> {
    const rows = await this.kysely.selectFrom("pools").selectAll().orderBy("created_at").orderBy("id").execute();
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      numbers: JSON.parse(r.numbers) as string[],
      codeLength: r.code_length,
      countries: JSON.parse(r.countries) as string[],
      createdAt: Number(r.created_at),
    }));
  }

  async getOrCreateSetting(name: string, value: string): Promise<string> {
    await this.kysely
      .insertInto("settings")
      .values({ name, value })
      .onConflict((oc) => oc.column("name").doNothing())
      .execute();
    const row = await this.kysely
      .selectFrom("settings")
      .select("value")
      .where("name", "=", name)
      .executeTakeFirstOrThrow();
    return row.value;
  }

  async findIdempotency(applicationId: string, key: string): Promise<IdempotencyRecord | undefined> {
    const row = await this.kysely
      .selectFrom("idempotency_keys")
      .selectAll()
      .where("application_id", "=", applicationId)
      .where("key", "=", key)
      .executeTakeFirst();
    return row && toIdempotencyRecord(row);
  }

  // The hot path is each database's own: SqliteStore's prepared statements, PostgresStore's PL/pgSQL functions.
  abstract createVerification(input: NewVerification): Promise<"created" | "cli_taken" | "idempotency_taken">;
  abstract getVerification(id: string): Promise<Verification | undefined>;
  abstract saveVerification(
    v: Verification,
    expectedVersion: number,
    events: DomainEvent[],
    releaseLeases: boolean,
    wakeAt?: number | null,
  ): Promise<boolean>;
  abstract lastCliKey(phone: string): Promise<string | undefined>;

  retentionStore(): RetentionStore {
    return kyselyRetention(this.kysely, (ids) => this.forget(ids));
  }

  /** Retention redacted or erased these verifications: what a subclass keeps of them must go. */
  protected forget(_ids: readonly string[]): void {}

  async liveReverseAttempts(now: number, dial?: string, phone?: string): Promise<ReverseAttemptRef[]> {
    let query = this.kysely
      .selectFrom("attempts as a")
      .innerJoin("verifications as v", "v.id", "a.verification_id")
      .select(["a.verification_id", "v.phone", "a.dial", "a.expires_at"])
      .where("a.dial", "is not", null)
      .where("a.expires_at", ">", now)
      .where("v.status", "=", "pending");
    if (dial !== undefined) query = query.where("a.dial", "=", dial);
    if (phone !== undefined) query = query.where("v.phone", "=", phone);
    const rows = await query.execute();
    return rows.map(toReverseRef);
  }

  async liveLeaseKeys(poolId: string, now: number): Promise<Set<string>> {
    const rows = await this.kysely
      .selectFrom("cli_leases")
      .select("cli_key")
      .where("pool_id", "=", poolId)
      .where("expires_at", ">=", now)
      .execute();
    return new Set(rows.map((r) => r.cli_key));
  }

  async listWithLiveAttempts(limit: number): Promise<string[]> {
    const rows = await this.kysely
      .selectFrom("attempts")
      .select("verification_id")
      .distinct()
      .where("status", "in", ["dialing", "ringing"])
      .orderBy("verification_id")
      .limit(limit)
      .execute();
    return rows.map((r) => r.verification_id);
  }

  async claimTimers(now: number, claimUntil: number, limit: number): Promise<string[]> {
    const rows = await this.kysely
      .updateTable("timers")
      .set({ claimed_until: claimUntil })
      .where("verification_id", "in", (qb) =>
        this.claimable(
          qb
            .selectFrom("timers")
            .select("verification_id")
            .where("due_at", "<=", now)
            .where("claimed_until", "<=", now)
            .orderBy("due_at")
            .limit(limit),
        ),
      )
      .returning("verification_id")
      .execute();
    return rows.map((r) => r.verification_id);
  }

  async setTimer(verificationId: string, wakeAt: number | null): Promise<void> {
    await setTimer(this.kysely, verificationId, wakeAt);
  }

  async releaseAllClaims(): Promise<void> {
    await this.kysely.transaction().execute(async (tx) => {
      await tx.updateTable("timers").set({ claimed_until: 0 }).where("claimed_until", ">", 0).execute();
      await tx
        .updateTable("webhook_deliveries")
        .set({ claimed_until: 0 })
        .where("status", "=", "pending")
        .where("claimed_until", ">", 0)
        .execute();
    });
  }

  async listEvents(verificationId: string, afterSeq = 0): Promise<StoredEvent[]> {
    const rows = await this.kysely
      .selectFrom("events")
      .selectAll()
      .where("verification_id", "=", verificationId)
      .where("seq", ">", afterSeq)
      .orderBy("seq")
      .execute();
    return rows.map(toStoredEvent);
  }

  async listApplicationEvents(applicationId: string, afterSeq: number, limit: number): Promise<StoredEvent[]> {
    const rows = await this.kysely
      .selectFrom("events")
      .selectAll()
      .where("application_id", "=", applicationId)
      .where("seq", ">", afterSeq)
      .orderBy("seq")
      .limit(limit)
      .execute();
    return rows.map(toStoredEvent);
  }

  async findEvent(id: string): Promise<(StoredEvent & { applicationId: string | null }) | undefined> {
    const row = await this.kysely.selectFrom("events").selectAll().where("id", "=", id).executeTakeFirst();
    return row && { ...toStoredEvent(row), applicationId: row.application_id };
  }

  async insertFraudRule(rule: FraudRule, events: DomainEvent[]): Promise<void> {
    await this.kysely.transaction().execute(async (tx) => {
      await tx.insertInto("fraud_rules").values(fraudRuleRow(rule)).execute();
      await insertEvents(tx, events, rule.applicationId);
    });
  }

  async listFraudRules(since: number): Promise<FraudRule[]> {
    const rows = await this.kysely
      .selectFrom("fraud_rules")
      .selectAll()
      .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", since)]))
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    return rows.map(toFraudRule);
  }

  async deleteFraudRule(applicationId: string, id: string): Promise<boolean> {
    const result = await this.kysely
      .deleteFrom("fraud_rules")
      .where("application_id", "=", applicationId)
      .where("id", "=", id)
      .executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }
}
