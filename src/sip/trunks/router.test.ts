/**
 * The trunk router's policy, driven with scripted trunks (the test decides how each call ends). The same behaviour
 * against real SIP peers is in test/sip-trunks.sipp.test.ts.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { CallRecord, FlashCaller, PlaceCallOptions, PlacedCall } from "../types.js";
import { TrunkRouter } from "./router.js";
import { Trunk, type TrunkEvent, type TrunkPolicy } from "./trunk.js";

class ScriptedCaller implements FlashCaller {
  readonly local = { address: "127.0.0.1", port: 5060 };
  readonly placed: {
    options: PlaceCallOptions;
    end(reason: CallRecord["reason"], code: number | null, retryAfterMs?: number): void;
    canceled: boolean;
  }[] = [];
  probeAnswer: number | null = null;
  probes = 0;
  /** How calls end unless the test ends them (reason, final, a 503's Retry-After ms): undefined = they wait. */
  constructor(private readonly auto?: [CallRecord["reason"], number | null, number?]) {}
  get activeCalls() {
    return 0;
  }
  placeCall(options: PlaceCallOptions): PlacedCall {
    let resolve!: (r: CallRecord) => void;
    const done = new Promise<CallRecord>((r) => {
      resolve = r;
    });
    const startedAt = Date.now();
    const entry = {
      options,
      canceled: false,
      end: (reason: CallRecord["reason"], code: number | null, retryAfterMs?: number) =>
        resolve({
          callId: "x",
          startedAt,
          ringingAt: null,
          endedAt: Date.now(),
          finalCode: code,
          reason,
          reasonHeader: null,
          ...(retryAfterMs ? { retryAfterMs } : {}),
        }),
    };
    this.placed.push(entry);
    const auto = this.auto;
    if (auto) queueMicrotask(() => entry.end(...auto));
    return {
      callId: "x",
      done,
      cancel: () => {
        entry.canceled = true;
        entry.end("timeout", null);
      },
    };
  }
  async probe(): Promise<number | null> {
    this.probes++;
    return this.probeAnswer;
  }
  async close(): Promise<void> {}
}

const policy = (id: string, overrides: Partial<TrunkPolicy> = {}): TrunkPolicy => ({
  id,
  cliFormat: "e164",
  destinationFormat: "e164",
  pAssertedIdentity: true,
  headers: [],
  queueSize: 100,
  queueTimeoutMs: 2000,
  breakerFailures: 5,
  probeIntervalMs: 20,
  maxRetryAfterMs: 300_000,
  ...overrides,
});
const CALL = { to: "+447400123456", cli: "+442079412345", ringTimeMs: 0, maxDialMs: 5000 };
const now = () => performance.now();

describe("TrunkRouter", () => {
  it("fails over from a 503 to the next trunk and records both", async () => {
    const a = new ScriptedCaller(["network_error", 503]);
    const b = new ScriptedCaller(["ringing_canceled", 487]);
    const router = new TrunkRouter([new Trunk(a, policy("a"), now), new Trunk(b, policy("b"), now)]);
    const record = await router.placeCall(CALL).done;
    expect(record).toMatchObject({ trunk: "b", reason: "ringing_canceled", finalCode: 487 });
    expect(record.failedOver).toEqual([{ trunk: "a", reason: "network_error", finalCode: 503, reasonHeader: null }]);
    expect(router.activeCalls).toBe(0);
  });

  it("does not fail over on answers about the destination", async () => {
    for (const [reason, code] of [
      ["busy", 486],
      ["not_found", 404],
      ["rejected", 603],
      ["blocked_by_carrier", 607],
      ["unreachable", 480],
    ] as const) {
      const a = new ScriptedCaller([reason, code]);
      const b = new ScriptedCaller(["ringing_canceled", 487]);
      const router = new TrunkRouter([new Trunk(a, policy("a"), now), new Trunk(b, policy("b"), now)]);
      expect(await router.placeCall(CALL).done).toMatchObject({ trunk: "a", reason, failedOver: [] });
      expect(b.placed).toHaveLength(0);
    }
  });

  it("ends with the last trunk's failure when every trunk fails", async () => {
    const a = new ScriptedCaller(["network_error", 503]);
    const b = new ScriptedCaller(["timeout", null]);
    const router = new TrunkRouter([new Trunk(a, policy("a"), now), new Trunk(b, policy("b"), now)]);
    const record = await router.placeCall(CALL).done;
    expect(record).toMatchObject({ trunk: "b", reason: "timeout", finalCode: null });
    expect(record.failedOver.map((f) => f.trunk)).toEqual(["a"]);
  });

  it("answers no_route when no route serves the destination, sending nothing", async () => {
    const a = new ScriptedCaller(["ringing_canceled", 487]);
    const routes = [{ prefixes: ["+33"], countries: [], trunks: [{ id: "a", priority: 1, weight: 1 }] }];
    const router = new TrunkRouter([new Trunk(a, policy("a"), now)], { routes });
    expect(await router.placeCall(CALL).done).toMatchObject({ trunk: null, reason: "no_route" });
    expect(a.placed).toHaveLength(0);
  });

  it("refuses routes that name a trunk it does not have", () => {
    const routes = [{ prefixes: [], countries: [], trunks: [{ id: "nope", priority: 1, weight: 1 }] }];
    expect(() => new TrunkRouter([new Trunk(new ScriptedCaller(), policy("a"), now)], { routes })).toThrow(/"nope"/);
  });

  it("holds calls over max_concurrent in the queue until a call ends", async () => {
    const a = new ScriptedCaller();
    const router = new TrunkRouter([new Trunk(a, policy("a", { maxConcurrent: 1 }), now)]);
    const first = router.placeCall(CALL);
    const second = router.placeCall(CALL);
    await sleep(5);
    expect(a.placed).toHaveLength(1);
    a.placed[0]?.end("ringing_canceled", 487);
    await first.done;
    await sleep(5);
    expect(a.placed).toHaveLength(2);
    a.placed[1]?.end("ringing_canceled", 487);
    expect(await second.done).toMatchObject({ trunk: "a", reason: "ringing_canceled" });
  });

  it("after the queue deadline fails over to the next trunk, or fails with no_capacity", async () => {
    const a = new ScriptedCaller();
    const b = new ScriptedCaller(["ringing_canceled", 487]);
    const limited = policy("a", { maxConcurrent: 1, queueTimeoutMs: 30 });
    const router = new TrunkRouter([new Trunk(a, limited, now), new Trunk(b, policy("b"), now)]);
    router.placeCall(CALL); // holds a's one slot
    expect(await router.placeCall(CALL).done).toMatchObject({ trunk: "b", reason: "ringing_canceled" });

    const alone = new TrunkRouter([new Trunk(new ScriptedCaller(), limited, now)]);
    alone.placeCall(CALL);
    expect(await alone.placeCall(CALL).done).toMatchObject({ trunk: null, reason: "no_capacity" });
  });

  it("fails over at once when the queue is full", async () => {
    const a = new ScriptedCaller();
    const b = new ScriptedCaller(["ringing_canceled", 487]);
    const full = policy("a", { maxConcurrent: 1, queueSize: 0 });
    const router = new TrunkRouter([new Trunk(a, full, now), new Trunk(b, policy("b"), now)]);
    router.placeCall(CALL);
    expect(await router.placeCall(CALL).done).toMatchObject({ trunk: "b" });
  });

  it("spaces calls by max_cps", async () => {
    const a = new ScriptedCaller(["ringing_canceled", 487]);
    const router = new TrunkRouter([new Trunk(a, policy("a", { maxCps: 100, burst: 1 }), now)]);
    const started = performance.now();
    const records = await Promise.all([1, 2, 3, 4, 5].map(() => router.placeCall(CALL).done));
    expect(records.every((r) => r.trunk === "a")).toBe(true);
    // 1 at once, then one per 10 ms: at least 40 ms for five (no upper bound: the machine may be busy)
    expect(performance.now() - started).toBeGreaterThanOrEqual(38);
  });

  it("takes a failing trunk out, skips it, and puts it back when OPTIONS is answered", async () => {
    const a = new ScriptedCaller(["network_error", 503]);
    const b = new ScriptedCaller(["ringing_canceled", 487]);
    const events: TrunkEvent[] = [];
    const trunkA = new Trunk(a, policy("a", { breakerFailures: 2 }), now, (e) => events.push(e));
    const router = new TrunkRouter([trunkA, new Trunk(b, policy("b"), now)]);
    await router.placeCall(CALL).done;
    await router.placeCall(CALL).done;
    expect(events).toEqual([{ type: "out_of_service", trunk: "a" }]);
    expect(router.status().find((s) => s.id === "a")?.inService).toBe(false);
    await router.placeCall(CALL).done;
    expect(a.placed).toHaveLength(2); // the third call went straight to b
    await sleep(60);
    expect(a.probes).toBeGreaterThan(0); // probed, unanswered: still out
    expect(trunkA.inService).toBe(false);
    a.probeAnswer = 200;
    for (let i = 0; i < 100 && !trunkA.inService; i++) await sleep(10);
    expect(events.at(-1)).toEqual({ type: "back_in_service", trunk: "a" });
    await router.close();
  });

  it("holds a trunk out of rotation for a 503's Retry-After, then puts it back by itself", async () => {
    const a = new ScriptedCaller(["network_error", 503, 200]);
    const b = new ScriptedCaller(["ringing_canceled", 487]);
    const events: TrunkEvent[] = [];
    const trunkA = new Trunk(a, policy("a"), now, (e) => events.push(e));
    const router = new TrunkRouter([trunkA, new Trunk(b, policy("b"), now)]);
    const first = await router.placeCall(CALL).done;
    expect(first).toMatchObject({ trunk: "b", failedOver: [{ trunk: "a", reason: "network_error", finalCode: 503 }] });
    expect(events).toEqual([{ type: "out_of_service", trunk: "a" }]);
    expect(trunkA.inService).toBe(false);
    // The next call, at once, does not try a.
    expect(await router.placeCall(CALL).done).toMatchObject({ trunk: "b", failedOver: [] });
    expect(a.placed).toHaveLength(1);
    for (let i = 0; i < 200 && !trunkA.inService; i++) await sleep(10);
    expect(events).toEqual([
      { type: "out_of_service", trunk: "a" },
      { type: "back_in_service", trunk: "a" },
    ]);
    expect(a.probes).toBe(0); // the carrier said when: no probing needed
    await router.placeCall(CALL).done;
    expect(a.placed).toHaveLength(2);
    await router.close();
  });

  it("bounds the Retry-After hold by maxRetryAfterMs, and ignores Retry-After when that is 0", async () => {
    const hour = 3_600_000;
    const bounded = new Trunk(
      new ScriptedCaller(["network_error", 503, hour]),
      policy("a", { maxRetryAfterMs: 80 }),
      now,
    );
    const router = new TrunkRouter([
      bounded,
      new Trunk(new ScriptedCaller(["ringing_canceled", 487]), policy("b"), now),
    ]);
    await router.placeCall(CALL).done;
    expect(bounded.inService).toBe(false);
    for (let i = 0; i < 200 && !bounded.inService; i++) await sleep(10);
    expect(bounded.inService).toBe(true);
    await router.close();

    const ignoring = new Trunk(
      new ScriptedCaller(["network_error", 503, hour]),
      policy("a", { maxRetryAfterMs: 0 }),
      now,
    );
    const other = new TrunkRouter([
      ignoring,
      new Trunk(new ScriptedCaller(["ringing_canceled", 487]), policy("b"), now),
    ]);
    await other.placeCall(CALL).done;
    expect(ignoring.inService).toBe(true);
    await other.close();
  });

  it("cancels a queued call without sending it", async () => {
    const a = new ScriptedCaller();
    const router = new TrunkRouter([new Trunk(a, policy("a", { maxConcurrent: 1 }), now)]);
    router.placeCall(CALL);
    const queued = router.placeCall(CALL);
    queued.cancel();
    expect(await queued.done).toMatchObject({ trunk: null, reason: "timeout", finalCode: null });
    a.placed[0]?.end("ringing_canceled", 487);
    await sleep(5);
    expect(a.placed).toHaveLength(1);
  });

  it("writes numbers and headers as the trunk wants them, with the Identity header first", async () => {
    const a = new ScriptedCaller(["ringing_canceled", 487]);
    const signer = { identity: async (orig: string, dest: string) => `signed-${orig}-${dest}` };
    const trunk = new Trunk(
      a,
      policy("a", {
        cliFormat: "national",
        techPrefix: "99#",
        destinationFormat: "e164_no_plus",
        pAssertedIdentity: false,
        privacy: "id",
        headers: [["X-Account", "acme"]],
        signer,
      }),
      now,
    );
    await new TrunkRouter([trunk]).placeCall(CALL).done;
    expect(a.placed[0]?.options).toMatchObject({
      to: "+447400123456",
      cli: "+442079412345",
      cliUser: "99#02079412345",
      toUser: "447400123456",
      pAssertedIdentity: false,
      headers: [
        ["Identity", "signed-+442079412345-+447400123456"],
        ["Privacy", "id"],
        ["X-Account", "acme"],
      ],
    });
  });
});
