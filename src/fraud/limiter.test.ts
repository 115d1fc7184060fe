/**
 * The limiter port over each backend it ships with: the conformance suite in memory and in SQLite (counted by the
 * store's writer: its thread on a database file, the main connection for `:memory:`), and SQLite counters that
 * outlive the connection.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { RateLimiterSQLite } from "rate-limiter-flexible";
import { afterAll, describe, expect, it } from "vitest";
import { runLimiterConformance } from "../../test/conformance/limiter.js";
import { openSqliteStore } from "../storage/sqlite.js";
import { SqliteLimiter } from "../storage/sqlite-limiter.js";
import { MemoryLimiter } from "./memory-limiter.js";

const dir = mkdtempSync(join(tmpdir(), "fv-limiter-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const rule = { points: 3, durationSec: 60 };
let n = 0;

async function sqliteFile(name: string) {
  const store = openSqliteStore(join(dir, name));
  await store.migrate();
  return store;
}

runLimiterConformance("memory", async () => new MemoryLimiter());
runLimiterConformance("sqlite file", async () => new SqliteLimiter(await sqliteFile(`conformance-${n++}.db`)));
runLimiterConformance("sqlite memory", async () => {
  const store = openSqliteStore(":memory:");
  await store.migrate();
  return new SqliteLimiter(store);
});

describe("Limiter: memory", () => {
  it("forgets windows once they close, without a timer per key", async () => {
    let now = 1_000_000;
    const limiter = new MemoryLimiter(() => now);
    const minute = { points: 2, durationSec: 60 };
    for (let i = 0; i < 100; i++) await limiter.consume("t", minute, `k${i}`);
    await limiter.consume("t", { points: 5, durationSec: 3600 }, "long");
    expect(limiter.size).toBe(101);
    expect(await limiter.consume("t", minute, "k0")).toEqual({ allowed: true, consumed: 2, msBeforeNext: 60_000 });
    now += 60_000;
    // Closed windows read as none at once, and are dropped a few at a time by later consumes.
    expect(await limiter.peek("t", minute, "k1")).toBeUndefined();
    expect(await limiter.consume("t", minute, "k0")).toEqual({ allowed: true, consumed: 1, msBeforeNext: 60_000 });
    for (let i = 0; i < 20; i++) await limiter.consume("t", minute, "fresh");
    expect(limiter.size).toBe(3);
    expect(await limiter.peek("t", { points: 5, durationSec: 3600 }, "long")).toMatchObject({ consumed: 1 });
  });
});

describe("Limiter: sqlite", () => {
  it("keeps its counters in the database file across a restart", async () => {
    const first = await sqliteFile("restart.db");
    await new SqliteLimiter(first).consume("t", rule, "k", 3);
    await first.close();
    const second = await sqliteFile("restart.db");
    expect((await new SqliteLimiter(second).consume("t", rule, "k")).allowed).toBe(false);
    await second.close();
  });

  it("carries on the counters rate-limiter-flexible's RateLimiterSQLite wrote (the backend before this one)", async () => {
    const file = join(dir, "carried.db");
    (await sqliteFile("carried.db")).close();
    const db = new Database(file);
    const before = new RateLimiterSQLite({
      keyPrefix: `t:${rule.points}/${rule.durationSec}`,
      points: rule.points,
      duration: rule.durationSec,
      storeClient: db,
      storeType: "better-sqlite3",
      tableName: "rate_limits",
      tableCreated: true,
    });
    await before.consume("k", 2);
    db.close();
    const store = await sqliteFile("carried.db");
    const limiter = new SqliteLimiter(store);
    expect(await limiter.peek("t", rule, "k")).toMatchObject({ allowed: true, consumed: 2 });
    expect(await limiter.consume("t", rule, "k")).toMatchObject({ allowed: true, consumed: 3 });
    expect((await limiter.consume("t", rule, "k")).allowed).toBe(false);
    await store.close();
  });

  it("throws when its store fails, so the caller can fail closed", async () => {
    const store = await sqliteFile("closed.db");
    const limiter = new SqliteLimiter(store);
    await store.close();
    await expect(limiter.consume("t", rule, "k")).rejects.toThrow();
  });
});
