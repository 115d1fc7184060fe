/**
 * The machine's PostgreSQL for the suites that need it (FLASHVERIFY_TEST_POSTGRES_URL, default the local server's
 * `test` database). Each store gets a schema of its own, dropped when it closes, so suites and runs never share rows.
 */

import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { KyselyStore } from "../../src/storage/kysely-store.js";
import { openPostgresStore } from "../../src/storage/postgres.js";
import { peerAvailable } from "./peers.js";

export const POSTGRES_URL = process.env.FLASHVERIFY_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** True when the server answers (pg_isready); throws when CI requires it and it does not. */
export function postgresAvailable(): boolean {
  return peerAvailable(
    "postgres",
    () => spawnSync("pg_isready", ["-d", POSTGRES_URL], { stdio: "ignore" }).status === 0,
  );
}

/** Runs statements on the test database outside any store. */
export async function postgresQuery(text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

/** A fresh schema for one test; `drop()` removes it with everything in it. */
export async function testSchema(): Promise<{ name: string; drop(): Promise<void> }> {
  const name = `fv_test_${randomBytes(6).toString("hex")}`;
  await postgresQuery(`create schema ${name}`);
  return { name, drop: async () => void (await postgresQuery(`drop schema ${name} cascade`)) };
}

/** A store on a fresh schema; closing it drops the schema. */
export async function openTestPostgresStore(): Promise<KyselyStore> {
  const schema = await testSchema();
  const store = openPostgresStore(POSTGRES_URL, { schema: schema.name, maxConnections: 4 });
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    await schema.drop();
  };
  return store;
}
