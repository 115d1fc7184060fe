import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FakeClock, ScriptedChannel } from "../../test/support/scripted-channel.js";
import { openSqliteStore } from "../storage/sqlite.js";
import { CodeHasher, hashToken } from "./codes.js";
import { PoolRegistry } from "./pool-registry.js";
import type { Store } from "./ports.js";
import type { Verification } from "./types.js";
import type { Access } from "./verification-service.js";
import { VerificationService } from "./verification-service.js";

const APP = "app_test";
const app: Access = { kind: "application", applicationId: APP };

let store: Store;
let clock: FakeClock;
let channel: ScriptedChannel;
let service: VerificationService;

async function setup(numbers = ["+4420794xxxxx"], maxChecks = 3, opened: Store = openSqliteStore(":memory:")) {
  store = opened;
  await store.migrate();
  await store.upsertPool({ id: "pool_a", name: "a", numbers, codeLength: 4, countries: ["*"], createdAt: 0 });
  const pools = new PoolRegistry(store);
  await pools.refresh();
  clock = new FakeClock();
  channel = new ScriptedChannel();
  service = new VerificationService({
    store,
    clock,
    hasher: new CodeHasher("s".repeat(32)),
    pools,
    channels: { flashcall: channel },
    settings: {
      flashcallTtlMs: 60_000,
      verificationTtlMs: 600_000,
      flashcallMaxChecks: maxChecks,
      clientTokenGraceMs: 600_000,
    },
    onBackgroundError: (error) => {
      throw error;
    },
  });
}

async function start(phone = "+447400123456") {
  const result = await service.start(APP, { phone });
  if (!result.ok) throw new Error(result.error.code);
  return { ...result.value, cli: channel.last().message.cli };
}

/**
 * Another service, as a second process (or a restarted one) would have: no shared state. It shares `store` unless
 * given a store of its own over the same database.
 */
function secondProcess(over: Store = store): VerificationService {
  return new VerificationService({
    store: over,
    clock,
    hasher: new CodeHasher("s".repeat(32)),
    pools: { poolsFor: () => [] },
    channels: { flashcall: new ScriptedChannel() },
    settings: { flashcallTtlMs: 60_000, verificationTtlMs: 600_000, flashcallMaxChecks: 3, clientTokenGraceMs: 0 },
  });
}

/** Waits until the stored verification satisfies `ready`: channel callbacks reach the store asynchronously. */
async function waitFor(id: string, ready: (v: Verification) => boolean): Promise<Verification> {
  for (let i = 0; i < 400; i++) {
    const v = await store.getVerification(id);
    if (v && ready(v)) return v;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`${id} never reached the awaited state`);
}

beforeEach(() => setup());
afterEach(() => store.close());

describe("start", () => {
  it("leases a CLI from the pool, keeps only its public prefix and records the guess probability", async () => {
    const s = await start();
    expect(s.cli).toMatch(/^\+4420794\d{5}$/);
    expect(s.verification.attempts[0]?.cliPrefix).toBe(s.cli.slice(0, -4));
    expect(s.verification.status).toBe("pending");
    expect(s.verification.guessProbability).toBeCloseTo(3 / 10_000);
    expect(s.verification.expiresAt - clock.now()).toBe(60_000);
    const stored = await store.getVerification(s.verification.id);
    // Neither the CLI nor its code digits as a value are stored: only the public prefix and HMACs.
    expect(JSON.stringify(stored)).not.toContain(s.cli.slice(1));
    expect(JSON.stringify(stored)).not.toContain(`"${s.cli.slice(-4)}"`);
    expect(stored?.attempts[0]?.status).toBe("dialing");
  });

  it("refuses a number that is not E.164-able and writes nothing", async () => {
    const result = await service.start(APP, { phone: "07400 123456" });
    expect(result).toEqual({ ok: false, error: { code: "INVALID_PHONE_NUMBER" } });
    expect(channel.sent).toHaveLength(0);
  });

  it("never hands one CLI to two live verifications, and says when the pool is exhausted", async () => {
    await setup(["+4420794000xx"]);
    const clis = new Set<string>();
    for (let i = 0; i < 100; i++) clis.add((await start(`+4474001234${String(i).padStart(2, "0")}`)).cli);
    expect(clis.size).toBe(100);
    const full = await service.start(APP, { phone: "+447400999999" });
    expect(full).toEqual({ ok: false, error: { code: "POOL_EXHAUSTED" } });
  });

  it("releases the CLI when the verification ends", async () => {
    await setup(["+442079400000"]);
    const first = await start();
    expect((await service.start(APP, { phone: "+447400999999" })).ok).toBe(false);
    await service.cancel(first.verification.id, app);
    expect((await service.start(APP, { phone: "+447400999999" })).ok).toBe(true);
  });

  it("never calls the same destination from the same CLI twice in a row", async () => {
    await setup(["+442079400000", "+442079400001"]);
    let previous = "";
    for (let i = 0; i < 30; i++) {
      const s = await start();
      expect(s.cli).not.toBe(previous);
      previous = s.cli;
      await service.cancel(s.verification.id, app);
    }
  });
});

describe("guess probability", () => {
  it("is checks over the pool numbers sharing the shown prefix, not over the whole pool", async () => {
    await setup(["+442079400xxx", "+441632960xx"]);
    const seen = new Map<string, number>();
    // Draw until both blocks have served a call (each draw has a 1 in 11 chance of the small block).
    for (let i = 0; i < 500 && seen.size < 2; i++) {
      const s = await start(`+4474001${String(i).padStart(5, "0")}`);
      seen.set(s.cli.length === 12 ? "short" : "long", s.verification.guessProbability);
    }
    expect(seen.get("long")).toBeCloseTo(3 / 1000);
    expect(seen.get("short")).toBeCloseTo(3 / 100);
  });
});

describe("check", () => {
  it("verifies with the last digits or the full caller ID in any format", async () => {
    for (const form of ["last4", "e164", "national"] as const) {
      const s = await start();
      const code =
        form === "last4" ? s.cli.slice(-4) : form === "e164" ? s.cli : `0${s.cli.slice(3, 5)} ${s.cli.slice(5)}`;
      const checked = await service.check(s.verification.id, app, { callerId: code });
      expect(checked.ok && checked.value.verification.status).toBe("verified");
    }
  });

  it("counts wrong codes, fails after the last one, and then refuses even the right code", async () => {
    const s = await start();
    const right = s.cli.slice(-4);
    const wrong = right === "0000" ? "1111" : "0000";
    const first = await service.check(s.verification.id, app, { code: wrong });
    expect(first.ok && first.value).toMatchObject({ attemptsRemaining: 2 });
    await service.check(s.verification.id, app, { code: wrong });
    const third = await service.check(s.verification.id, app, { code: wrong });
    expect(third.ok && third.value.verification).toMatchObject({ status: "failed", reason: "max_checks" });
    const late = await service.check(s.verification.id, app, { code: right });
    expect(late.ok && late.value.verification.status).toBe("failed");
    expect(late.ok && late.value.attemptsRemaining).toBe(0);
  });

  it("treats a full caller ID with the right last digits but a different prefix as wrong", async () => {
    const s = await start();
    const other = `+3361234${s.cli.slice(-4)}`;
    const checked = await service.check(s.verification.id, app, { callerId: other });
    expect(checked.ok && checked.value.verification.status).toBe("pending");
    expect(checked.ok && checked.value.attemptsRemaining).toBe(2);
  });

  it("rejects malformed input without spending a check", async () => {
    const s = await start();
    const bad = await service.check(s.verification.id, app, { code: "٢٣٤٥" });
    expect(bad).toEqual({ ok: false, error: { code: "INVALID_CODE_FORMAT" } });
    const v = await store.getVerification(s.verification.id);
    expect(v?.checksUsed).toBe(0);
  });

  it("is single use: a second check after verification is refused", async () => {
    const s = await start();
    await service.check(s.verification.id, app, { code: s.cli.slice(-4) });
    const again = await service.check(s.verification.id, app, { code: s.cli.slice(-4) });
    expect(again).toEqual({ ok: false, error: { code: "ALREADY_VERIFIED" } });
  });

  it("answers expired after the TTL, without moving time by sleeping", async () => {
    const s = await start();
    clock.advance(60_000);
    const checked = await service.check(s.verification.id, app, { code: s.cli.slice(-4) });
    expect(checked.ok && checked.value.verification).toMatchObject({ status: "expired", reason: "ttl" });
  });

  it("counts concurrent checks exactly once each and verifies at most once", async () => {
    const s = await start();
    const right = s.cli.slice(-4);
    const wrong = right === "0000" ? "1111" : "0000";
    const results = await Promise.all([
      service.check(s.verification.id, app, { code: right }),
      service.check(s.verification.id, app, { code: right }),
      service.check(s.verification.id, app, { code: wrong }),
    ]);
    const verified = results.filter((r) => r.ok && r.value.verification.status === "verified");
    expect(verified).toHaveLength(results.filter((r) => r.ok).length);
    expect(results.filter((r) => !r.ok && r.error.code === "ALREADY_VERIFIED").length).toBeGreaterThanOrEqual(1);
    const v = await store.getVerification(s.verification.id);
    expect(v?.status).toBe("verified");
  });

  it("counts checks exactly once across two processes sharing a store (optimistic versions, no shared queue)", async () => {
    const s = await start();
    const other = secondProcess();
    const wrong = s.cli.slice(-4) === "0000" ? "1111" : "0000";
    const results = await Promise.all([
      service.check(s.verification.id, app, { code: wrong }),
      other.check(s.verification.id, app, { code: wrong }),
    ]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect((await store.getVerification(s.verification.id))?.checksUsed).toBe(2);
    const remaining = results.map((r) => (r.ok ? r.value.attemptsRemaining : -1)).sort();
    expect(remaining).toEqual([1, 2]);
  });

  it("accepts the verification's client token and nothing of another verification", async () => {
    const a = await start();
    const b = await start("+447400654321");
    const tokenA: Access = { kind: "client", tokenHash: hashToken(a.clientToken) };
    const cross = await service.check(b.verification.id, tokenA, { code: b.cli.slice(-4) });
    expect(cross).toEqual({ ok: false, error: { code: "VERIFICATION_NOT_FOUND" } });
    const own = await service.check(a.verification.id, tokenA, { code: a.cli.slice(-4) });
    expect(own.ok && own.value.verification.status).toBe("verified");
    const otherApp = await service.get(a.verification.id, { kind: "application", applicationId: "app_other" });
    expect(otherApp).toEqual({ ok: false, error: { code: "VERIFICATION_NOT_FOUND" } });
  });
});

describe("call progress", () => {
  it("records ringing and the delivered missed call, with events in order", async () => {
    const s = await start();
    channel.ring(clock.now() + 40);
    channel.end({ at: clock.now() + 1540, delivered: true, reason: "ringing_canceled", sipCode: 487 });
    const v = await waitFor(s.verification.id, (x) => x.attempts[0]?.endedAt !== null);
    expect(v?.attempts[0]).toMatchObject({ status: "delivered", reason: "ringing_canceled", sipCode: 487 });
    expect(v?.attempts[0]?.ringingAt).toBe(clock.now() + 40);
    const events = await store.listEvents(s.verification.id);
    expect(events.map((e) => e.type)).toEqual([
      "verification.started",
      "attempt.dialing",
      "attempt.ringing",
      "attempt.delivered",
    ]);
  });

  it("fails the verification when the call never rang, and releases its CLI", async () => {
    await setup(["+442079400000"]);
    const s = await start("+447400120486");
    channel.end({ at: clock.now() + 30, delivered: false, reason: "busy", sipCode: 486 });
    const v = await waitFor(s.verification.id, (x) => x.status !== "pending");
    expect(v).toMatchObject({ status: "failed", reason: "attempt_failed" });
    expect(v?.attempts[0]).toMatchObject({ status: "failed", reason: "busy" });
    expect((await service.start(APP, { phone: "+447400999999" })).ok).toBe(true);
  });

  it("hangs up a call still ringing when the verification ends", async () => {
    const s = await start();
    channel.ring(clock.now());
    await waitFor(s.verification.id, (x) => x.attempts[0]?.status === "ringing");
    await service.check(s.verification.id, app, { code: s.cli.slice(-4) });
    expect(channel.last().canceled).toBe(true);
  });
});

describe("restart", () => {
  it("settles attempts a dead process left in flight and keeps their verifications checkable", async () => {
    const rang = await start("+447400123456");
    channel.ring(clock.now() + 30);
    await waitFor(rang.verification.id, (x) => x.attempts[0]?.status === "ringing");
    const dialing = await start("+447400654321");

    // A new service over the same store is what a restarted process sees; the old calls are gone.
    const restarted = secondProcess();
    expect(await restarted.recoverInterrupted()).toBe(2);
    expect(await restarted.recoverInterrupted()).toBe(0);

    const a = await store.getVerification(rang.verification.id);
    expect(a).toMatchObject({ status: "pending" });
    expect(a?.attempts[0]).toMatchObject({ status: "delivered", reason: "interrupted" });
    const b = await store.getVerification(dialing.verification.id);
    expect(b?.attempts[0]).toMatchObject({ status: "failed", reason: "interrupted" });
    expect(b).toMatchObject({ status: "pending" });

    const checked = await restarted.check(rang.verification.id, app, { callerId: rang.cli });
    expect(checked.ok && checked.value.verification.status).toBe("verified");
  });
});

describe("expiry comes first", () => {
  it("an overdue verification ends expired, not canceled or failed, whatever reaches it first", async () => {
    const a = await start("+447400123456");
    const b = await start("+447400654321");
    clock.advance(60_000);
    const canceled = await service.cancel(a.verification.id, app);
    expect(canceled.ok && canceled.value).toMatchObject({ status: "expired", reason: "ttl" });
    channel.end({ at: clock.now(), delivered: false, reason: "busy", sipCode: 486 });
    await waitFor(b.verification.id, (x) => x.status === "expired");
  });
});

describe("expiry sweep", () => {
  it("settles every overdue verification and leaves the others pending", async () => {
    const old = await start();
    clock.advance(30_000);
    const young = await start("+447400654321");
    clock.advance(30_000);
    expect(await service.advanceDue()).toBe(1);
    expect((await store.getVerification(old.verification.id))?.status).toBe("expired");
    expect((await store.getVerification(young.verification.id))?.status).toBe("pending");
  });
});

describe("durable timers", () => {
  it("a call left in flight by a dead process: the verification expires on time, the attempt at its deadline", async () => {
    const s = await start();
    const id = s.verification.id;
    // Another process takes over the database without running start-up recovery (a second node, say).
    const other = secondProcess();
    clock.advance(59_999);
    expect(await other.advanceDue()).toBe(0);
    clock.advance(1);
    expect(await other.advanceDue()).toBe(1);
    expect(await store.getVerification(id)).toMatchObject({ status: "expired", attempts: [{ status: "dialing" }] });
    // The attempt deadline (default 120 s after dialing) settles the call nobody is placing any more.
    clock.advance(59_999);
    expect(await other.advanceDue()).toBe(0);
    clock.advance(1);
    expect(await other.advanceDue()).toBe(1);
    expect((await store.getVerification(id))?.attempts[0]).toMatchObject({ status: "failed", reason: "interrupted" });
    expect((await store.listEvents(id)).map((e) => e.type)).toEqual([
      "verification.started",
      "attempt.dialing",
      "verification.expired",
      "attempt.failed",
    ]);
    clock.advance(3600_000);
    expect(await other.advanceDue()).toBe(0);
  });

  it("an interrupted attempt leaves the verification pending and checkable until its expiry fires", async () => {
    const s = await start();
    const id = s.verification.id;
    channel.ring(clock.now());
    await waitFor(id, (v) => v.attempts[0]?.status === "ringing");
    const restarted = secondProcess();
    expect(await restarted.recoverInterrupted()).toBe(1);
    expect((await store.getVerification(id))?.attempts[0]).toMatchObject({
      status: "delivered",
      reason: "interrupted",
    });
    clock.advance(59_999);
    expect(await restarted.advanceDue()).toBe(0);
    clock.advance(1);
    expect(await restarted.advanceDue()).toBe(1);
    expect((await store.getVerification(id))?.status).toBe("expired");
  });
});
