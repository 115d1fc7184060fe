import { describe, expect, it } from "vitest";
import { orderSrv } from "./dns.js";

const srv = (name: string, priority: number, weight: number) => ({ name, port: 5060, priority, weight });

describe("orderSrv (RFC 2782)", () => {
  it("orders by priority first, whatever the weights", () => {
    const ordered = orderSrv([srv("c", 30, 100), srv("a", 10, 0), srv("b", 20, 50)], () => 0.99);
    expect(ordered.map((r) => r.name)).toEqual(["a", "b", "c"]);
  });

  it("draws within a priority in proportion to weight, zero weights last", () => {
    const records = [srv("zero", 10, 0), srv("light", 10, 10), srv("heavy", 10, 90)];
    // A draw below 10 of 100 picks the light one, above it the heavy one; the zero-weight one always comes last.
    expect(orderSrv(records, () => 0.05).map((r) => r.name)).toEqual(["light", "heavy", "zero"]);
    expect(orderSrv(records, () => 0.5).map((r) => r.name)).toEqual(["heavy", "light", "zero"]);
    const firsts = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      const first = orderSrv(records)[0]!.name;
      firsts.set(first, (firsts.get(first) ?? 0) + 1);
    }
    expect(firsts.get("zero") ?? 0).toBe(0);
    expect(firsts.get("heavy")!).toBeGreaterThan(firsts.get("light")! * 4);
  });

  it("takes all-zero weights in turn", () => {
    expect(
      orderSrv([srv("a", 1, 0), srv("b", 1, 0)], () => 0.7)
        .map((r) => r.name)
        .sort(),
    ).toEqual(["a", "b"]);
  });
});
