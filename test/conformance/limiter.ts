/**
 * The Limiter conformance suite: every backend (memory, SQLite, and Redis when the scale configuration adds it) runs
 * these same tests through the port, so the fraud controls can rely on the port's promises rather than on one
 * store's behaviour.
 *
 * @example
 * runLimiterConformance("redis", async () => new FlexibleLimiter(redisBackend(redis)));
 */
import { describe, expect, it } from "vitest";
import type { Limiter } from "../../src/fraud/limiter.js";

const rule = { points: 3, durationSec: 60 };

export function runLimiterConformance(name: string, open: () => Promise<Limiter>): void {
  describe(`Limiter conformance: ${name}`, () => {
    it("allows the rule's points per key, then refuses with the time to wait", async () => {
      const limiter = await open();
      for (let i = 1; i <= 3; i++) {
        expect(await limiter.consume("t", rule, "a")).toMatchObject({ allowed: true, consumed: i });
      }
      const refused = await limiter.consume("t", rule, "a");
      expect(refused.allowed).toBe(false);
      expect(refused.msBeforeNext).toBeGreaterThan(50_000);
      expect((await limiter.consume("t", rule, "b")).allowed).toBe(true);
    });

    it("keeps rules apart, peeks without spending, and refunds", async () => {
      const limiter = await open();
      await limiter.consume("t", rule, "k", 2);
      expect((await limiter.consume("t", { points: 1, durationSec: 60 }, "k")).allowed).toBe(true);
      expect(await limiter.peek("t", rule, "k")).toMatchObject({ allowed: true, consumed: 2 });
      expect(await limiter.peek("t", rule, "never")).toBeUndefined();
      await limiter.refund("t", rule, "k", 2);
      expect((await limiter.consume("t", rule, "k", 3)).allowed).toBe(true);
    });

    it("counts concurrent consumes exactly", async () => {
      const limiter = await open();
      const wide = { points: 100, durationSec: 60 };
      const results = await Promise.all(Array.from({ length: 150 }, () => limiter.consume("t", wide, "burst")));
      expect(results.filter((r) => r.allowed)).toHaveLength(100);
    });

    it("runs steps in order and spends nothing after the first exhausted key", async () => {
      const limiter = await open();
      const one = { points: 1, durationSec: 60 };
      await limiter.consume("t", one, "spent");
      const decisions = await limiter.run([
        { op: "peek", name: "t", rule: one, key: "unused" },
        { op: "consume", name: "t", rule, key: "s1", points: 2 },
        { op: "consume", name: "t", rule: one, key: "spent" },
        { op: "consume", name: "t", rule, key: "s2" },
      ]);
      expect(decisions).toHaveLength(3);
      expect(decisions[0]).toBeUndefined();
      expect(decisions[1]).toMatchObject({ allowed: true, consumed: 2 });
      expect(decisions[2]).toMatchObject({ allowed: false, consumed: 2 });
      expect(decisions[2]?.msBeforeNext).toBeGreaterThan(50_000);
      expect(await limiter.peek("t", rule, "s2")).toBeUndefined();
      // A peek at the rule's points stops the run too; below them it does not.
      const stopped = await limiter.run([
        { op: "peek", name: "t", rule: one, key: "spent" },
        { op: "consume", name: "t", rule, key: "s2" },
      ]);
      expect(stopped).toHaveLength(1);
      expect(stopped[0]).toMatchObject({ allowed: false, consumed: 2 });
      expect(await limiter.peek("t", rule, "s2")).toBeUndefined();
      const ran = await limiter.run([
        { op: "peek", name: "t", rule, key: "s1" },
        { op: "consume", name: "t", rule, key: "s3" },
      ]);
      expect(ran).toEqual([
        expect.objectContaining({ allowed: true, consumed: 2 }),
        expect.objectContaining({ allowed: true, consumed: 1 }),
      ]);
      expect(await limiter.run([])).toEqual([]);
    });

    it("starts a key over once its window has passed", async () => {
      const limiter = await open();
      const short = { points: 1, durationSec: 1 };
      expect((await limiter.consume("t", short, "w")).allowed).toBe(true);
      expect((await limiter.consume("t", short, "w")).allowed).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await limiter.consume("t", short, "w")).allowed).toBe(true);
    });
  });
}
