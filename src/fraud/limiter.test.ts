/**
 * The limiter port over each backend it ships with: the conformance suite in memory and in SQLite (better-sqlite3
 * on a database file migrated by our own migrations), and SQLite counters that outlive the connection.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openSqliteStore } from "../storage/sqlite.js";
import { FlexibleLimiter, memoryBackend, sqliteBackend } from "./limiter.js";
import { runLimiterConformance } from "./limiter-conformance.js";

const dir = mkdtempSync(join(tmpdir(), "fv-limiter-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const rule = { points: 3, durationSec: 60 };
let n = 0;

async function sqliteFile(name: string) {
  const store = openSqliteStore(join(dir, name));
  await store.migrate();
  return store;
}

runLimiterConformance("memory", async () => memoryBackend);
runLimiterConformance("sqlite file", async () => sqliteBackend((await sqliteFile(`conformance-${n++}.db`)).db));

describe("Limiter: sqlite", () => {
  it("keeps its counters in the database file across a restart", async () => {
    const first = await sqliteFile("restart.db");
    await new FlexibleLimiter(sqliteBackend(first.db)).consume("t", rule, "k", 3);
    await first.close();
    const second = await sqliteFile("restart.db");
    expect((await new FlexibleLimiter(sqliteBackend(second.db)).consume("t", rule, "k")).allowed).toBe(false);
    await second.close();
  });

  it("throws when its store fails, so the caller can fail closed", async () => {
    const store = await sqliteFile("closed.db");
    const limiter = new FlexibleLimiter(sqliteBackend(store.db));
    await store.close();
    await expect(limiter.consume("t", rule, "k")).rejects.toThrow();
  });
});
