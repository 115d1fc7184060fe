/** Migrations land per area in any order: a database that already ran a later number still gets an earlier one. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { Kysely, Migrator, SqliteDialect } from "kysely";
import { afterAll, expect, it } from "vitest";
import * as initial from "./migrations/0001-initial.js";
import * as attemptTrunk from "./migrations/0004-attempt-trunk.js";
import { openSqliteStore } from "./sqlite.js";

const dir = mkdtempSync(join(tmpdir(), "flashverify-migrations-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("runs 0003 on a database that has run 0001 and 0004", async () => {
  const file = join(dir, "older.db");
  // biome-ignore lint/suspicious/noExplicitAny: a database from before 0003, typed as migrations type it
  const older = new Kysely<any>({ dialect: new SqliteDialect({ database: new SqliteDatabase(file) }) });
  const provider = { getMigrations: async () => ({ "0001-initial": initial, "0004-attempt-trunk": attemptTrunk }) };
  const first = await new Migrator({ db: older, provider }).migrateToLatest();
  expect(first.error).toBeUndefined();
  await older.destroy();

  const store = openSqliteStore(file);
  await store.migrate();
  expect(await store.listFraudRules(0)).toEqual([]);
  await store.close();
});
