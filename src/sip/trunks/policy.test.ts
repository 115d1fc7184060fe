import { describe, expect, it } from "vitest";
import type { CallRecord } from "../types.js";
import { CircuitBreaker } from "./circuit-breaker.js";
import { isAliveAnswer, isTrunkFailure } from "./failover.js";
import { formatNumber } from "./number-format.js";
import { RouteTable } from "./route-table.js";
import { defaultBurst, TokenBucket } from "./token-bucket.js";

const record = (
  reason: CallRecord["reason"],
  finalCode: number | null,
  ringingAt: number | null = null,
): CallRecord => ({
  callId: "c",
  startedAt: 0,
  ringingAt,
  endedAt: 1,
  finalCode,
  reason,
  reasonHeader: null,
});

describe("failover policy", () => {
  it("fails over on trunk trouble: 5xx, 408, no response, transport errors, failed auth", () => {
    expect(isTrunkFailure(record("network_error", 503))).toBe(true);
    expect(isTrunkFailure(record("network_error", 500))).toBe(true);
    expect(isTrunkFailure(record("timeout", 408))).toBe(true);
    expect(isTrunkFailure(record("timeout", null))).toBe(true);
    expect(isTrunkFailure(record("network_error", null))).toBe(true);
    expect(isTrunkFailure(record("auth_failed", 401))).toBe(true);
  });

  it("stops on answers about the destination, and once the phone rang", () => {
    expect(isTrunkFailure(record("busy", 486))).toBe(false);
    expect(isTrunkFailure(record("not_found", 404))).toBe(false);
    expect(isTrunkFailure(record("rejected", 603))).toBe(false);
    expect(isTrunkFailure(record("blocked_by_carrier", 607))).toBe(false);
    expect(isTrunkFailure(record("blocked_by_carrier", 608))).toBe(false);
    expect(isTrunkFailure(record("unreachable", 480))).toBe(false);
    expect(isTrunkFailure(record("no_answer", null))).toBe(false);
    expect(isTrunkFailure(record("answered", 200))).toBe(false);
    expect(isTrunkFailure(record("ringing_canceled", 487, 5))).toBe(false);
    expect(isTrunkFailure(record("network_error", 503, 5))).toBe(false);
  });

  it("counts any OPTIONS answer but a server error as alive", () => {
    expect([200, 404, 405, 481, 501].every(isAliveAnswer)).toBe(true);
    expect([null, 500, 503].some(isAliveAnswer)).toBe(false);
  });
});

describe("TokenBucket", () => {
  it("starts full, refills at the rate and never saves more than the burst", () => {
    let now = 0;
    const bucket = new TokenBucket(100, 2, () => now);
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, false]);
    expect(bucket.msUntilToken()).toBe(10);
    now += 10;
    expect([bucket.take(), bucket.take()]).toEqual([true, false]);
    now += 10_000;
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, false]);
  });

  it("lets through the configured rate over a long run", () => {
    let now = 0;
    const bucket = new TokenBucket(50, defaultBurst(50), () => now);
    let taken = 0;
    for (; now < 10_000; now += 1) if (bucket.take()) taken++;
    expect(taken).toBeGreaterThanOrEqual(500);
    expect(taken).toBeLessThanOrEqual(500 + defaultBurst(50));
  });
});

describe("CircuitBreaker", () => {
  it("goes out after consecutive failures only, and back in when restored", () => {
    const breaker = new CircuitBreaker(3);
    breaker.failure();
    breaker.failure();
    breaker.success();
    expect(breaker.failure()).toBe(false);
    expect(breaker.failure()).toBe(false);
    expect(breaker.inService).toBe(true);
    expect(breaker.failure()).toBe(true);
    expect(breaker.inService).toBe(false);
    expect(breaker.failure()).toBe(false); // already out: reported once
    breaker.success(); // a late call ending well does not restore it; a probe does
    expect(breaker.inService).toBe(false);
    breaker.restore();
    expect(breaker.inService).toBe(true);
    expect([breaker.failure(), breaker.failure(), breaker.failure()]).toEqual([false, false, true]);
  });
});

describe("formatNumber", () => {
  it("writes numbers the way each trunk wants them", () => {
    expect(formatNumber("+442079412345", "e164")).toBe("+442079412345");
    expect(formatNumber("+442079412345", "e164_no_plus")).toBe("442079412345");
    expect(formatNumber("+442079412345", "national")).toBe("02079412345");
    expect(formatNumber("+12015550123", "national")).toBe("2015550123");
    expect(formatNumber("+33612345678", "national", "99#")).toBe("99#0612345678");
    expect(formatNumber("+442079412345", "e164_no_plus", "1234")).toBe("1234442079412345");
  });
});

describe("RouteTable", () => {
  const entry = (id: string, priority = 1, weight = 1) => ({ id, priority, weight });

  it("without routes tries every trunk in the order listed", () => {
    expect(new RouteTable([], ["a", "b", "c"]).candidates("+447400123456")).toEqual(["a", "b", "c"]);
  });

  it("picks the longest prefix, then the country, then the default route; else nothing", () => {
    const table = new RouteTable([
      { prefixes: ["+44"], countries: [], trunks: [entry("uk")] },
      { prefixes: ["+447"], countries: [], trunks: [entry("uk-mobile")] },
      { prefixes: [], countries: ["FR"], trunks: [entry("fr")] },
    ]);
    expect(table.candidates("+447400123456")).toEqual(["uk-mobile"]);
    expect(table.candidates("+442079460000")).toEqual(["uk"]);
    expect(table.candidates("+33612345678")).toEqual(["fr"]);
    expect(table.candidates("+4915112345678")).toEqual([]);
    const withDefault = new RouteTable([
      { prefixes: ["+44"], countries: [], trunks: [entry("uk")] },
      { prefixes: [], countries: [], trunks: [entry("world")] },
    ]);
    expect(withDefault.candidates("+4915112345678")).toEqual(["world"]);
  });

  it("orders by priority, and splits one priority by weight", () => {
    let r = 0;
    const picks = [0.1, 0.5, 0.9];
    const table = new RouteTable(
      [{ prefixes: [], countries: [], trunks: [entry("backup", 2), entry("a", 1, 3), entry("b", 1, 1)] }],
      [],
      () => picks[r++ % picks.length] as number,
    );
    // weights 3:1 -> a for draws below 0.75
    expect(table.candidates("+447400123456")).toEqual(["a", "b", "backup"]);
    const counts = { a: 0, b: 0 };
    const seeded = new RouteTable(
      [{ prefixes: [], countries: [], trunks: [entry("a", 1, 3), entry("b", 1, 1)] }],
      [],
      mulberry32(7),
    );
    for (let i = 0; i < 4000; i++) counts[seeded.candidates("+447400123456")[0] as "a" | "b"]++;
    expect(counts.a / 4000).toBeGreaterThan(0.7);
    expect(counts.a / 4000).toBeLessThan(0.8);
  });
});

/** A small seeded PRNG, so the weighted split is tested without flakiness. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
