import { describe, expect, it } from "vitest";
import { InboundPool, inboundPoolProblem } from "./inbound-pool.js";

const holder = (id: string, phone: string, expiresAt = 10_000) => ({ verificationId: id, phone, expiresAt });

describe("inbound pool", () => {
  it("shares a small pool: many verifications per number, never two of one phone on one number", () => {
    const pool = new InboundPool({ numbers: ["+442079460999"], mode: "auto" });
    expect(pool.leased).toBe(false);
    expect(pool.take(holder("ver_a", "+447400000001"), 0)).toBe("+442079460999");
    expect(pool.take(holder("ver_b", "+447400000002"), 0)).toBe("+442079460999");
    expect(pool.take(holder("ver_c", "+447400000001"), 0)).toBeNull();
    pool.release("ver_a");
    expect(pool.take(holder("ver_c", "+447400000001"), 0)).toBe("+442079460999");
  });

  it("leases a large pool one number per verification, and takes back expired leases", () => {
    const pool = new InboundPool({ numbers: ["+4420794609xx"], mode: "auto", leaseFrom: 100 });
    expect(pool.leased).toBe(true);
    const taken = new Set<string | null>();
    for (let i = 0; i < 100; i++) taken.add(pool.take(holder(`ver_${i}`, `+4474000001${i}`, 5000), 0));
    expect(taken.size).toBe(100);
    expect(taken.has(null)).toBe(false);
    expect(pool.take(holder("ver_full", "+447400009999"), 0)).toBeNull();
    // After the leases' expiry, every number is free again.
    expect(pool.take(holder("ver_later", "+447400009999"), 5000)).toMatch(/^\+4420794609\d\d$/);
  });

  it("knows its numbers and refuses lists that are not numbers", () => {
    const pool = new InboundPool({ numbers: ["+44207946098x", "+15550100"], mode: "leased" });
    expect(pool.size).toBe(11);
    expect(pool.has("+442079460987")).toBe(true);
    expect(pool.has("+4420794609870")).toBe(false);
    expect(pool.has("+15550100")).toBe(true);
    expect(inboundPoolProblem([])).toMatch(/at least one/);
    expect(inboundPoolProblem(["02079460999"])).toMatch(/not an E.164 number/);
    expect(inboundPoolProblem(["+442079460999", "+442079460999"])).toMatch(/once/);
  });
});
