/**
 * What an operator watches in the database: live verifications, the outbox (webhook deliveries not yet made), due
 * timers nobody has claimed, live CLI leases per pool, and the connection pool where there is one. Read at each
 * /metrics scrape with a handful of indexed queries, dialect-neutral (SQLite and PostgreSQL).
 */
import { type Kysely, sql } from "kysely";
import type { Database } from "./schema.js";

/** A connection pool's state (node-postgres: `totalCount`, `idleCount`, `waitingCount`, `options.max`). */
export interface ConnectionPoolStats {
  max: number;
  /** connections open, in use or idle */
  total: number;
  idle: number;
  /** queries waiting for a connection */
  waiting: number;
}

export interface OperationalStats {
  /** pending verifications not past their expiry */
  liveVerifications: number;
  /** webhook deliveries not yet delivered nor given up, to enabled endpoints */
  undeliveredWebhooks: number;
  /** `created_at` of the oldest of those; null when there is none */
  oldestUndeliveredAt: number | null;
  /** `due_at` of the oldest timer that is due and not claimed; null when none is */
  oldestDueTimerAt: number | null;
  /** live CLI leases per pool id */
  leasesByPool: Record<string, number>;
  /** the database connection pool; null for SQLite (one connection, no pool) */
  connections: ConnectionPoolStats | null;
}

/** Implemented by both stores. */
export interface OperationalStatsSource {
  operationalStats(now: number): Promise<OperationalStats>;
}

export async function readOperationalStats(
  db: Kysely<Database>,
  now: number,
): Promise<Omit<OperationalStats, "connections">> {
  const live = await db
    .selectFrom("verifications")
    .select(sql<number>`count(*)`.as("n"))
    .where("status", "=", "pending")
    .where("expires_at", ">", now)
    .executeTakeFirst();
  const outbox = await db
    .selectFrom("webhook_deliveries as d")
    .innerJoin("webhook_endpoints as w", "w.id", "d.endpoint_id")
    .select([sql<number>`count(*)`.as("n"), sql<number | null>`min(d.created_at)`.as("oldest")])
    .where("d.status", "=", "pending")
    .where("w.enabled", "=", 1)
    .executeTakeFirst();
  const timer = await db
    .selectFrom("timers")
    .select(sql<number | null>`min(due_at)`.as("oldest"))
    .where("due_at", "<=", now)
    .where("claimed_until", "<=", now)
    .executeTakeFirst();
  const leases = await db
    .selectFrom("cli_leases")
    .select(["pool_id", sql<number>`count(*)`.as("n")])
    .where("expires_at", ">=", now)
    .groupBy("pool_id")
    .execute();
  const orNull = (value: unknown) => (value === null || value === undefined ? null : Number(value));
  return {
    liveVerifications: Number(live?.n ?? 0),
    undeliveredWebhooks: Number(outbox?.n ?? 0),
    oldestUndeliveredAt: orNull(outbox?.oldest),
    oldestDueTimerAt: orNull(timer?.oldest),
    leasesByPool: Object.fromEntries(leases.map((row) => [row.pool_id, Number(row.n)])),
  };
}
