/**
 * The reverse flash call's part of the Store conformance suite: an attempt's `dial` round-trips (and is absent on
 * other attempts), and `liveReverseAttempts` finds pending verifications waiting on a number, by number alone and
 * with the caller's phone, never an expired attempt or an ended verification.
 */
import { expect, it } from "vitest";
import type { Store } from "../../src/core/ports.js";
import type { Verification } from "../../src/core/types.js";
import { verification } from "./store.js";

const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);

function waiting(id: string, phone: string, dial: string, expiresAt = T0 + 120_000): Verification {
  const v = verification(id, { phone, workflow: [{ channel: "reverse_flashcall", timeoutMs: 120_000 }] });
  const attempt = {
    ...(v.attempts[0] as Verification["attempts"][number]),
    channel: "reverse_flashcall" as const,
    status: "sent" as const,
    poolId: null,
    cliKey: null,
    cliPrefix: null,
    codeLength: 0,
    codeMac: "",
    cost: null,
    dial,
    expiresAt,
  };
  return { ...v, expiresAt: T0 + 600_000, stepDeadline: null, attempts: [attempt] };
}

export function reverseConformance(current: () => Store): void {
  it("finds reverse flash calls waiting on a number, by number and by the caller's phone", async () => {
    const store = current();
    const a = waiting("ver_ra", "+447400000001", "+442079460999");
    const b = waiting("ver_rb", "+447400000002", "+442079460999");
    const other = waiting("ver_rc", "+447400000001", "+442079460998");
    const expired = waiting("ver_rd", "+447400000003", "+442079460999", T0 + 10);
    for (const v of [a, b, other, expired]) {
      expect(await store.createVerification({ verification: v, events: [] })).toBe("created");
    }
    expect(await store.getVerification("ver_ra")).toEqual(a);
    const ids = (refs: { verificationId: string }[]) => refs.map((r) => r.verificationId).sort();
    expect(ids(await store.liveReverseAttempts(T0 + 100, "+442079460999"))).toEqual(["ver_ra", "ver_rb"]);
    expect(await store.liveReverseAttempts(T0 + 100, "+442079460999", "+447400000001")).toEqual([
      { verificationId: "ver_ra", phone: "+447400000001", dial: "+442079460999", expiresAt: T0 + 120_000 },
    ]);
    expect(ids(await store.liveReverseAttempts(T0 + 100))).toEqual(["ver_ra", "ver_rb", "ver_rc"]);
    // Once it ends, nothing waits any more.
    const verified = { ...a, status: "verified" as const, endedAt: T0 + 200, version: 2 };
    expect(await store.saveVerification(verified, 1, [], true)).toBe(true);
    expect(await store.liveReverseAttempts(T0 + 300, "+442079460999", "+447400000001")).toEqual([]);
    expect(ids(await store.liveReverseAttempts(T0 + 300, "+442079460999"))).toEqual(["ver_rb"]);
  });
}
