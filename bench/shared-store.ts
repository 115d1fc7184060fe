/**
 * PostgreSQL and Redis for `npm run bench -- --store postgres`: the run gets a schema and a Redis key prefix of its
 * own, so it starts from empty tables and counters and never touches anyone else's rows or keys, and both are
 * removed afterwards. The servers' record of their calls is read from the schema before it is dropped.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import pg from "pg";
import { ATTEMPT_COLUMNS, type CallOutcomes, type StepWindow, summariseAttempts } from "./call-outcomes.js";

export interface SharedStore {
  url: string;
  schema: string;
  redisUrl: string;
  redisPrefix: string;
  /** the code secret all nodes share */
  secret: string;
}

/** Creates the run's schema (and checks that Redis answers); rejects when either service is not there. */
export async function createSharedStore(url: string, redisUrl: string): Promise<SharedStore> {
  const suffix = randomBytes(6).toString("hex");
  const schema = `fv_bench_${suffix}`;
  await query(url, `create schema ${schema}`);
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    await query(url, `drop schema ${schema} cascade`);
    throw new Error(`Redis at ${redisUrl} does not answer: ${(error as Error).message}`);
  } finally {
    redis.disconnect();
  }
  return { url, schema, redisUrl, redisPrefix: `fv_bench_${suffix}`, secret: randomBytes(32).toString("base64url") };
}

/** Drops the schema and deletes the prefix's keys; best effort, errors are reported and not thrown. */
export async function removeSharedStore(store: SharedStore): Promise<void> {
  try {
    await query(store.url, `drop schema if exists ${store.schema} cascade`);
  } catch (error) {
    console.log(`could not drop schema ${store.schema}: ${(error as Error).message}`);
  }
  const redis = new Redis(store.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${store.redisPrefix}:*`, "COUNT", 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } catch (error) {
    console.log(`could not delete Redis keys ${store.redisPrefix}:*: ${(error as Error).message}`);
  } finally {
    redis.disconnect();
  }
}

/** The servers' record of the calls created in each window, from the run's schema. */
export async function readCallOutcomesFromPostgres(
  store: SharedStore,
  windows: readonly StepWindow[],
): Promise<CallOutcomes[]> {
  const client = new pg.Client({ connectionString: store.url });
  await client.connect();
  try {
    const outcomes: CallOutcomes[] = [];
    for (const w of windows) {
      const result = await client.query(
        `select ${ATTEMPT_COLUMNS} from ${store.schema}.attempts where created_at between $1 and $2`,
        [w.from, w.to],
      );
      outcomes.push(summariseAttempts(result.rows, w.startDueAt));
    }
    return outcomes;
  } finally {
    await client.end();
  }
}

async function query(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}
