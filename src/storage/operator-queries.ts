/**
 * The operator's queries (see OperatorStore) in Kysely, for SQLite and PostgreSQL alike. Costs are cast to double
 * precision before they are summed: on PostgreSQL `attempts.cost` is a 4-byte `real`, and a sum in `real` was off by
 * $0.21 over 100,000 verifications ($1,550; `npm run bench:dashboard`). Means are cast too: PostgreSQL averages
 * integers as `numeric` (a string to node-postgres). Time buckets are integer division of the creation time, which both dialects do on integers.
 */
import { type Kysely, sql } from "kysely";
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
import type { ChannelName, Verification, VerificationStatus } from "../core/types.js";
import { toAttempt, toVerification } from "./rows.js";
import type { Database } from "./schema.js";

type Db = Kysely<Database>;

const isPostgres = (db: Db) => db.getExecutor().adapter.constructor.name.startsWith("Postgres");
const double = (expression: ReturnType<typeof sql>) => sql<number>`cast(${expression} as double precision)`;

export class OperatorQueries implements OperatorStore {
  private readonly postgres: boolean;

  constructor(private readonly db: Db) {
    this.postgres = isPostgres(db);
  }

  async listApplications(): Promise<ApplicationRecord[]> {
    const rows = await this.db.selectFrom("applications").selectAll().orderBy("created_at").orderBy("id").execute();
    return rows.map((r) => ({ id: r.id, name: r.name, createdAt: Number(r.created_at) }));
  }

  async listApiKeys(applicationId: string): Promise<StoredApiKey[]> {
    const rows = await this.db
      .selectFrom("api_keys")
      .selectAll()
      .where("application_id", "=", applicationId)
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    return rows.map((r) => ({
      id: r.id,
      applicationId: r.application_id,
      keyHash: r.key_hash,
      label: r.label,
      createdAt: Number(r.created_at),
      revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
    }));
  }

  async revokeApiKey(applicationId: string, id: string, now: number): Promise<boolean> {
    const updated = await this.db
      .updateTable("api_keys")
      .set({ revoked_at: now })
      .where("application_id", "=", applicationId)
      .where("id", "=", id)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    return Number(updated.numUpdatedRows) === 1;
  }

  async listVerifications(q: VerificationQuery): Promise<Verification[]> {
    let query = this.db.selectFrom("verifications as v").selectAll("v").where("v.application_id", "=", q.applicationId);
    if (q.status) query = query.where("v.status", "=", q.status);
    if (q.country) query = query.where("v.country", "=", q.country);
    const channel = q.channel;
    if (channel) {
      query = query.where(({ exists, selectFrom }) =>
        exists(
          selectFrom("attempts as a")
            .select("a.id")
            .whereRef("a.verification_id", "=", "v.id")
            .where("a.channel", "=", channel),
        ),
      );
    }
    const before = q.before;
    if (before) {
      query = query.where((eb) =>
        eb.or([
          eb("v.created_at", "<", before.createdAt),
          eb.and([eb("v.created_at", "=", before.createdAt), eb("v.id", "<", before.id)]),
        ]),
      );
    }
    const rows = await query.orderBy("v.created_at", "desc").orderBy("v.id", "desc").limit(q.limit).execute();
    if (rows.length === 0) return [];
    const attempts = await this.db
      .selectFrom("attempts")
      .selectAll()
      .where(
        "verification_id",
        "in",
        rows.map((r) => r.id),
      )
      .orderBy("verification_id")
      .orderBy("seq")
      .execute();
    const byVerification = new Map<string, ReturnType<typeof toAttempt>[]>();
    for (const a of attempts) {
      const list = byVerification.get(a.verification_id) ?? [];
      list.push(toAttempt(a));
      byVerification.set(a.verification_id, list);
    }
    return rows.map((r) => toVerification(r, byVerification.get(r.id) ?? []));
  }

  private inRange(range: StatsRange) {
    return this.db
      .selectFrom("verifications as v")
      .where("v.application_id", "=", range.applicationId)
      .where("v.created_at", ">=", range.from)
      .where("v.created_at", "<", range.to);
  }

  // Grouped by the alias: PostgreSQL would see the expression's parameters as new ones and refuse it.
  async verificationBuckets(range: StatsRange, bucketMs: number): Promise<VerificationBucketRow[]> {
    const bucket = sql<number>`(v.created_at - cast(${range.from} as bigint)) / cast(${bucketMs} as bigint)`;
    const rows = await this.inRange(range)
      .select([bucket.as("bucket"), "v.status", (eb) => eb.fn.countAll<number>().as("count")])
      .groupBy([sql`bucket`, "v.status"])
      .execute();
    return rows.map((r) => ({
      bucket: Number(r.bucket),
      status: r.status as VerificationStatus,
      count: Number(r.count),
    }));
  }

  async verificationGroups(range: StatsRange): Promise<VerificationGroupRow[]> {
    const outcome = this.postgres
      ? sql<string | null>`(v.risk::json ->> 'outcome')`
      : sql<string | null>`json_extract(v.risk, '$.outcome')`;
    const rows = await this.inRange(range)
      .select([
        "v.country",
        "v.status",
        "v.reason",
        outcome.as("risk_outcome"),
        (eb) => eb.fn.countAll<number>().as("count"),
      ])
      .groupBy(["v.country", "v.status", "v.reason", outcome])
      .execute();
    return rows.map((r) => ({
      country: r.country,
      status: r.status as VerificationStatus,
      reason: r.reason,
      riskOutcome: r.risk_outcome,
      count: Number(r.count),
    }));
  }

  async attemptGroups(range: StatsRange): Promise<AttemptGroupRow[]> {
    const rows = await this.inRange(range)
      .innerJoin("attempts as a", "a.verification_id", "v.id")
      .select([
        "a.channel",
        "a.status",
        "a.reason",
        "a.trunk_id",
        "a.pool_id",
        "v.country",
        (eb) => eb.fn.countAll<number>().as("count"),
        double(sql`coalesce(sum(cast(a.cost as double precision)), 0)`).as("cost"),
      ])
      .groupBy(["a.channel", "a.status", "a.reason", "a.trunk_id", "a.pool_id", "v.country"])
      .execute();
    return rows.map((r) => ({
      channel: r.channel as ChannelName,
      status: r.status,
      reason: r.reason,
      trunkId: r.trunk_id,
      // Message attempts store '' for the CLI columns (see migration 0005).
      poolId: r.pool_id === "" ? null : r.pool_id,
      country: r.country,
      count: Number(r.count),
      cost: Number(r.cost),
    }));
  }

  async attemptBuckets(range: StatsRange, bucketMs: number): Promise<AttemptBucketRow[]> {
    const bucket = sql<number>`(v.created_at - cast(${range.from} as bigint)) / cast(${bucketMs} as bigint)`;
    const rows = await this.inRange(range)
      .innerJoin("attempts as a", "a.verification_id", "v.id")
      .select([
        bucket.as("bucket"),
        "a.channel",
        (eb) => eb.fn.countAll<number>().as("count"),
        double(sql`coalesce(sum(cast(a.cost as double precision)), 0)`).as("cost"),
      ])
      .groupBy([sql`bucket`, "a.channel"])
      .execute();
    return rows.map((r) => ({
      bucket: Number(r.bucket),
      channel: r.channel as ChannelName,
      count: Number(r.count),
      cost: Number(r.cost),
    }));
  }

  async timeToVerify(
    range: StatsRange,
    fractions: readonly number[],
  ): Promise<{ count: number; values: (number | null)[] }> {
    const verified = this.inRange(range).where("v.status", "=", "verified").where("v.ended_at", "is not", null);
    const counted = await verified.select((eb) => eb.fn.countAll<number>().as("count")).executeTakeFirst();
    const count = Number(counted?.count ?? 0);
    const duration = sql<number>`v.ended_at - v.created_at`;
    // Nearest rank: the value at position ceil(f * n) of the sorted durations, read by the database's own sort.
    const values = await Promise.all(
      fractions.map(async (f) => {
        if (count === 0) return null;
        const offset = Math.min(count - 1, Math.max(0, Math.ceil(f * count) - 1));
        const row = await verified
          .select(duration.as("duration"))
          .orderBy(duration)
          .limit(1)
          .offset(offset)
          .executeTakeFirst();
        return row ? Number(row.duration) : null;
      }),
    );
    return { count, values };
  }

  async blockGroups(range: StatsRange): Promise<BlockGroupRow[]> {
    const rows = await this.db
      .selectFrom("fraud_rules")
      .where("application_id", "=", range.applicationId)
      .where("list", "=", "block")
      .where("created_at", ">=", range.from)
      .where("created_at", "<", range.to)
      .select(["source", "scope", "shadow", (eb) => eb.fn.countAll<number>().as("count")])
      .groupBy(["source", "scope", "shadow"])
      .execute();
    return rows.map((r) => ({
      source: r.source as BlockGroupRow["source"],
      scope: r.scope as BlockGroupRow["scope"],
      shadow: Number(r.shadow) === 1,
      count: Number(r.count),
    }));
  }

  async deliveryGroups(range: StatsRange): Promise<DeliveryGroupRow[]> {
    const rows = await this.db
      .selectFrom("webhook_deliveries as d")
      .innerJoin("webhook_endpoints as w", "w.id", "d.endpoint_id")
      .where("w.application_id", "=", range.applicationId)
      .where("d.created_at", ">=", range.from)
      .where("d.created_at", "<", range.to)
      .select([
        "d.endpoint_id",
        "d.status",
        (eb) => eb.fn.countAll<number>().as("count"),
        double(sql`avg(d.last_latency_ms)`).as("mean_latency"),
        (eb) => eb.fn.max("d.created_at").as("last_at"),
      ])
      .groupBy(["d.endpoint_id", "d.status"])
      .execute();
    return rows.map((r) => ({
      endpointId: r.endpoint_id,
      status: r.status as DeliveryGroupRow["status"],
      count: Number(r.count),
      meanLatencyMs: r.mean_latency === null ? null : Number(r.mean_latency),
      lastAt: Number(r.last_at),
    }));
  }

  async latestEventSeq(applicationId: string): Promise<number> {
    const row = await this.db
      .selectFrom("events")
      .where("application_id", "=", applicationId)
      .select((eb) => eb.fn.max("seq").as("seq"))
      .executeTakeFirst();
    return Number(row?.seq ?? 0);
  }

  async liveLeaseCounts(now: number): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom("cli_leases")
      .where("expires_at", ">=", now)
      .select(["pool_id", (eb) => eb.fn.countAll<number>().as("count")])
      .groupBy("pool_id")
      .execute();
    return new Map(rows.map((r) => [r.pool_id, Number(r.count)]));
  }
}
