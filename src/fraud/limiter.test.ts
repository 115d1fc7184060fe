/**
 * The limiter port over each backend it ships with: the conformance suite in memory and in SQLite (better-sqlite3
 * on a database file migrated by our own migrations), and SQLite counters that outlive the connection.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runLimiterConformance } from "../../test/conformance/limiter.js";
import { openSqliteStore } from "../storage/sqlite.js";
import { FlexibleLimiter, sqliteBackend } from "./limiter.js";
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
runLimiterConformance(
  "sqlite file",
  async () => new FlexibleLimiter(sqliteBackend((await sqliteFile(`conformance-${n++}.db`)).db)),
);

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
