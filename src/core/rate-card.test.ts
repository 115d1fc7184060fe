import { describe, expect, it } from "vitest";
import {
  attemptCost,
  priceEndedAttempts,
  priceOf,
  RATE_CARD,
  sendCost,
  smsOnlyCost,
  withOverrides,
} from "./rate-card.js";
import type { Attempt } from "./types.js";

const base: Attempt = {
  id: "att_1",
  verificationId: "ver_1",
  seq: 1,
  channel: "flashcall",
  status: "dialing",
  reason: null,
  sipCode: null,
  createdAt: 0,
  dialedAt: 0,
  ringingAt: null,
  endedAt: null,
  trunkId: null,
  invitedAt: null,
  reasonHeader: null,
  expiresAt: 60_000,
  detail: null,
  cost: null,
  poolId: "pool_default",
  cliKey: "k",
  cliPrefix: "+44207946",
  codeLength: 4,
  codeMac: "m",
};
const ended = (a: Partial<Attempt>): Attempt => ({ ...base, endedAt: 1000, ...a });

/** A card whose carrier bills every flash call it takes, as some operators now do. */
const perAttempt = withOverrides(RATE_CARD, { flashcall: { GB: { attempt: 0.002 } } });

describe("the rate card", () => {
  it("charges only delivered sends by default", () => {
    const rang = ended({ status: "delivered", reason: "ringing_canceled", sipCode: 487, ringingAt: 500, trunkId: "a" });
    expect(attemptCost(rang, "GB")).toBe(0.0115);
    // A busy call that never rang, and calls that never reached a carrier (trunk "none"), cost nothing.
    const busy = ended({ status: "failed", reason: "busy", sipCode: 486, trunkId: "a" });
    expect(attemptCost(busy, "GB")).toBe(0);
    expect(attemptCost(ended({ status: "failed", reason: "no_route" }), "GB")).toBe(0);
    expect(attemptCost(ended({ status: "failed", reason: "no_capacity" }), "GB")).toBe(0);
    const sms = { ...base, channel: "sms" as const, poolId: null, cliKey: null, cliPrefix: null };
    expect(attemptCost({ ...sms, endedAt: 1, status: "delivered", reason: "delivered" }, "GB")).toBe(0.04);
    expect(attemptCost({ ...sms, endedAt: 1, status: "failed", reason: "undeliverable" }, "GB")).toBe(0);
  });

  it("is not priced while in flight, nor when nothing was ever sent", () => {
    expect(attemptCost({ ...base, status: "ringing", ringingAt: 10 }, "GB")).toBeNull();
    expect(attemptCost(ended({ status: "failed", reason: "shadow_blocked" }), "GB")).toBeNull();
  });

  it("adds the attempt fee to every attempt a carrier took, when the card has one", () => {
    const busy = ended({ status: "failed", reason: "busy", sipCode: 486, trunkId: "a" });
    expect(attemptCost(busy, "GB", perAttempt)).toBe(0.002);
    const rang = ended({ status: "delivered", reason: "ringing_canceled", sipCode: 487, ringingAt: 500 });
    expect(attemptCost(rang, "GB", perAttempt)).toBe(0.0135);
    // Nothing reached a carrier: no fee, whatever the card says.
    expect(attemptCost(ended({ status: "failed", reason: "no_route" }), "GB", perAttempt)).toBe(0);
    expect(attemptCost(ended({ status: "failed", reason: "timeout" }), "GB", perAttempt)).toBe(0);
    const email = { ...base, channel: "email" as const, poolId: null, cliKey: null, cliPrefix: null };
    const rejected = { ...email, endedAt: 1, status: "failed" as const, reason: "rejected" as const };
    expect(attemptCost(rejected, "GB", withOverrides(RATE_CARD, { email: { DEFAULT: { attempt: 1 } } }))).toBe(0);
  });

  it("merges an operator's entries over the shipped prices, part by part", () => {
    expect(perAttempt.flashcall.GB).toEqual({ attempt: 0.002, delivered: 0.0115 });
    expect(priceOf("flashcall", "BR", perAttempt)).toEqual({ attempt: 0, delivered: 0.00561 });
    const ru = withOverrides(RATE_CARD, { flashcall: { RU: { attempt: 0.004 } } });
    expect(priceOf("flashcall", "RU", ru)).toEqual({ attempt: 0.004, delivered: 0.01836 });
    // A spend cap reserves the most a send can cost.
    expect(sendCost("flashcall", "GB", perAttempt)).toBeCloseTo(0.0135, 9);
    expect(smsOnlyCost("GB")).toBe(0.04);
  });

  it("prices the attempts that ended in a transition, and only those", () => {
    const live = { ...base, status: "ringing" as const, ringingAt: 5 };
    const before = { country: "GB", attempts: [live] };
    const after = { country: "GB", attempts: [{ ...live, status: "delivered" as const, endedAt: 9, sipCode: 487 }] };
    expect(priceEndedAttempts(before, after).attempts[0]?.cost).toBe(0.0115);
    // An attempt already ended keeps the price it was given.
    const settled = { country: "GB", attempts: [{ ...after.attempts[0], cost: 0.5 } as Attempt] };
    expect(priceEndedAttempts(settled, settled)).toBe(settled);
  });
});
