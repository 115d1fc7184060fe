/**
 * The Store conformance suite: every store implementation (SQLite today, PostgreSQL next) runs these same tests,
 * so the core can rely on the port's promises rather than on one database's behaviour.
 *
 * @example
 * runStoreConformance("sqlite", async () => openSqliteStore(":memory:"));
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { OperatorStore } from "../../src/core/operator-store.js";
import type { FraudRule, Store } from "../../src/core/ports.js";
import type { DomainEvent, EventType, Verification } from "../../src/core/types.js";
import type { WebhookEndpoint, WebhookStore } from "../../src/events/webhook-store.js";
import { operatorConformance } from "./operator-store.js";
import { reverseConformance } from "./reverse-store.js";

const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);

/** A pending flash-call verification with one attempt, as the suite stores it. */
export function verification(id: string, overrides: Partial<Verification> = {}): Verification {
  return {
    id,
    applicationId: "app_default",
    phone: "+447400123456",
    country: "GB",
    status: "pending",
    reason: null,
    reference: "ref-1",
    metadata: { plan: "pro", seats: 3 },
    client: { ip: "203.0.113.7", platform: "android" },
    clientTokenHash: "hash",
    maxChecks: 3,
    checksUsed: 0,
    guessProbability: 0.0003,
    risk: null,
    verifiedCallerId: null,
    createdAt: T0,
    updatedAt: T0,
    expiresAt: T0 + 60_000,
    endedAt: null,
    version: 1,
    attempts: [
      {
        id: `att_${id}`,
        verificationId: id,
        seq: 1,
        channel: "flashcall",
        status: "dialing",
        reason: null,
        sipCode: null,
        poolId: "pool_a",
        cliKey: `key_${id}`,
        cliPrefix: "+44207941",
        codeLength: 4,
        codeMac: "mac",
        createdAt: T0,
        dialedAt: T0,
        ringingAt: null,
        endedAt: null,
        trunkId: null,
        invitedAt: null,
        reasonHeader: null,
        expiresAt: T0 + 60_000,
        detail: null,
        cost: 0.011,
      },
    ],
    workflow: [
      { channel: "flashcall", timeoutMs: 60_000 },
      { channel: "sms", timeoutMs: 120_000 },
    ],
    step: 0,
    stepDeadline: T0 + 60_000,
    email: null,
    ...overrides,
  };
}

const started = (v: Verification): DomainEvent[] => [
  { type: "verification.started", verificationId: v.id, attemptId: null, at: v.createdAt, data: { phone: v.phone } },
];

function endpoint(id: string, overrides: Partial<WebhookEndpoint> = {}): WebhookEndpoint {
  return {
    id,
    applicationId: "app_default",
    url: "https://example.com/hook",
    description: null,
    eventTypes: null,
    enabled: true,
    disabledReason: null,
    secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    previousSecret: null,
    previousSecretExpiresAt: null,
    createdAt: T0,
    updatedAt: T0,
    format: "standard",
    ...overrides,
  };
}

const ev = (v: Verification, type: EventType, at: number, attemptId: string | null = null): DomainEvent => ({
  type,
  verificationId: v.id,
  attemptId,
  at,
  data: { n: at - T0 },
});

export function runStoreConformance(
  name: string,
  open: () => Promise<Store & { readonly operator: OperatorStore; readonly webhooks: WebhookStore }>,
): void {
  describe(`Store conformance: ${name}`, () => {
    let store: Store & { readonly operator: OperatorStore; readonly webhooks: WebhookStore };
    beforeEach(async () => {
      store = await open();
      await store.migrate();
    });
    afterEach(() => store.close());

    const create = (v: Verification, cliKey = v.attempts[0]?.cliKey ?? "k", leaseExpiresAt = v.expiresAt) =>
      store.createVerification({
        verification: v,
        lease: { poolId: "pool_a", cliKey, verificationId: v.id, expiresAt: leaseExpiresAt },
        phoneLastCliKey: cliKey,
        events: started(v),
      });

    it("migrates idempotently", async () => {
      await store.migrate();
      await store.ping();
    });

    it("round-trips a verification with its attempts", async () => {
      const v = verification("ver_1");
      expect(await create(v)).toBe("created");
      expect(await store.getVerification("ver_1")).toEqual(v);
      expect(await store.getVerification("ver_missing")).toBeUndefined();
      expect(await store.lastCliKey(v.phone)).toBe("key_ver_1");
    });

    it("refuses a second live lease on one CLI and writes nothing for it", async () => {
      await create(verification("ver_1"), "same");
      expect(await create(verification("ver_2"), "same")).toBe("cli_taken");
      expect(await store.getVerification("ver_2")).toBeUndefined();
      expect(await store.listEvents("ver_2")).toEqual([]);
      expect(await store.liveLeaseKeys("pool_a", T0)).toEqual(new Set(["same"]));
    });

    it("settles concurrent writes independently: one taken CLI does not undo the others", async () => {
      const results = await Promise.all([
        create(verification("ver_1"), "same"),
        create(verification("ver_2"), "same"),
        create(verification("ver_3"), "other"),
      ]);
      expect(results.sort()).toEqual(["cli_taken", "created", "created"]);
      const stored = await Promise.all(["ver_1", "ver_2", "ver_3"].map((id) => store.getVerification(id)));
      expect(stored.filter(Boolean)).toHaveLength(2);
      expect(stored[2]?.id).toBe("ver_3");
    });

    it("refuses one CLI to two live verifications even through two pools", async () => {
      await create(verification("ver_1"), "same");
      const v = verification("ver_2");
      const other = await store.createVerification({
        verification: v,
        lease: { poolId: "pool_b", cliKey: "same", verificationId: v.id, expiresAt: v.expiresAt },
        phoneLastCliKey: "same",
        events: started(v),
      });
      expect(other).toBe("cli_taken");
    });

    it("lets a stale lease be taken over", async () => {
      await create(verification("ver_1"), "same", T0 - 1);
      expect(await create(verification("ver_2"), "same")).toBe("created");
    });

    it("saves only from the version it read, with its events, and releases leases at the end", async () => {
      const v = verification("ver_1");
      await create(v, "cli");
      const next = { ...v, status: "verified" as const, checksUsed: 1, version: 2, endedAt: T0 + 5 };
      const event: DomainEvent = {
        type: "verification.verified",
        verificationId: v.id,
        attemptId: null,
        at: T0 + 5,
        data: {},
      };
      expect(await store.saveVerification(next, 1, [event], true)).toBe(true);
      expect(await store.saveVerification({ ...next, version: 3, checksUsed: 9 }, 1, [event], true)).toBe(false);
      expect((await store.getVerification(v.id))?.checksUsed).toBe(1);
      expect((await store.listEvents(v.id)).map((e) => e.type)).toEqual([
        "verification.started",
        "verification.verified",
      ]);
      expect(await store.liveLeaseKeys("pool_a", T0)).toEqual(new Set());
      expect(await create(verification("ver_2"), "cli")).toBe("created");
    });

    it("remembers, if at all, what it last wrote of a verification: not a save its version check refused", async () => {
      const rememberedAs = (expected: Verification) => {
        const last = store.lastWritten?.(expected.id);
        if (last !== undefined) expect(last).toEqual(expected);
      };
      const v = verification("ver_1");
      await create(v);
      rememberedAs(v);
      const next = { ...v, checksUsed: 1, version: 2 };
      expect(await store.saveVerification(next, 1, [], false)).toBe(true);
      rememberedAs(next);
      expect(await store.saveVerification({ ...next, checksUsed: 9, version: 3 }, 1, [], false)).toBe(false);
      rememberedAs(next);
      expect(store.lastWritten?.("ver_missing")).toBeUndefined();
    });

    it("updates attempts in place", async () => {
      const v = verification("ver_1");
      await create(v);
      const attempt = {
        ...v.attempts[0]!,
        status: "delivered" as const,
        reason: "ringing_canceled" as const,
        sipCode: 487,
        ringingAt: T0 + 40,
        endedAt: T0 + 1540,
        trunkId: "carrier-b",
        invitedAt: T0 + 12,
        reasonHeader: 'Q.850;cause=16;text="Normal call clearing"',
      };
      expect(await store.saveVerification({ ...v, version: 2, attempts: [attempt] }, 1, [], false)).toBe(true);
      expect(await store.liveLeaseKeys("pool_a", T0)).toEqual(new Set([v.attempts[0]?.cliKey]));
      expect((await store.getVerification(v.id))?.attempts).toEqual([attempt]);
    });

    it("lists verifications whose attempts are still in flight", async () => {
      await create(verification("ver_a"), "a");
      const b = verification("ver_b");
      await create(b, "b");
      const ended = { ...b.attempts[0]!, status: "delivered" as const, endedAt: T0 + 1 };
      await store.saveVerification({ ...b, version: 2, attempts: [ended] }, 1, [], false);
      expect(await store.listWithLiveAttempts(10)).toEqual(["ver_a"]);
    });

    it("claims due timers oldest first, once until the claim lapses or a save moves them", async () => {
      const withTimer = (v: Verification, wakeAt: number) =>
        store.createVerification({
          verification: v,
          lease: { poolId: "pool_a", cliKey: v.id, verificationId: v.id, expiresAt: v.expiresAt },
          phoneLastCliKey: v.id,
          events: [],
          wakeAt,
        });
      const a = verification("ver_a");
      await withTimer(a, T0 + 10);
      await withTimer(verification("ver_b"), T0 + 5);
      await withTimer(verification("ver_c"), T0 + 100_000);
      expect(await store.claimTimers(T0 + 10, T0 + 1000, 1)).toEqual(["ver_b"]);
      expect(await store.claimTimers(T0 + 10, T0 + 1000, 10)).toEqual(["ver_a"]);
      expect(await store.claimTimers(T0 + 20, T0 + 1000, 10)).toEqual([]);
      // a claim that lapsed (its worker died) is handed out again
      expect((await store.claimTimers(T0 + 1000, T0 + 2000, 10)).sort()).toEqual(["ver_a", "ver_b"]);
      await store.releaseAllClaims();
      expect((await store.claimTimers(T0 + 1000, T0 + 2000, 10)).sort()).toEqual(["ver_a", "ver_b"]);
      // a save that moves the timer releases the claim; null deletes it
      expect(await store.saveVerification({ ...a, version: 2 }, 1, [], false, T0 + 50)).toBe(true);
      expect(await store.claimTimers(T0 + 1000, T0 + 3000, 10)).toEqual(["ver_a"]);
      await store.setTimer("ver_a", null);
      await store.setTimer("ver_c", null);
      expect(await store.claimTimers(T0 + 5000, T0 + 6000, 10)).toEqual(["ver_b"]);
    });

    it("gives events ids in write order and pages them per verification and per application", async () => {
      const a = verification("ver_a");
      const b = verification("ver_b", { applicationId: "app_other" });
      await create(a, "a");
      await create(b, "b");
      // Dated out of order on purpose: an expiry is dated at the expiry, which may precede the write.
      await store.saveVerification({ ...a, version: 2 }, 1, [ev(a, "attempt.ringing", T0 + 9, "att_ver_a")], false);
      await store.saveVerification({ ...a, version: 3 }, 2, [ev(a, "verification.expired", T0 + 5)], false);
      const events = await store.listEvents("ver_a");
      expect(events.map((e) => e.type)).toEqual(["verification.started", "attempt.ringing", "verification.expired"]);
      expect(events.map((e) => e.id)).toEqual(events.map((e) => e.id).sort());
      expect(events.every((e) => /^evt_[0-9a-z]{26}$/.test(e.id))).toBe(true);
      expect(events[1]).toMatchObject({ attemptId: "att_ver_a", at: T0 + 9, data: { n: 9 } });
      const first = events[0]!;
      expect((await store.listEvents("ver_a", first.seq)).map((e) => e.id)).toEqual(events.slice(1).map((e) => e.id));
      const page = await store.listApplicationEvents("app_default", 0, 2);
      expect(page.map((e) => e.id)).toEqual(events.slice(0, 2).map((e) => e.id));
      expect((await store.listApplicationEvents("app_default", page[1]!.seq, 10)).map((e) => e.id)).toEqual([
        events[2]!.id,
      ]);
      expect((await store.listApplicationEvents("app_other", 0, 10)).map((e) => e.type)).toEqual([
        "verification.started",
      ]);
      expect(await store.findEvent(first.id)).toEqual({ ...first, applicationId: "app_default" });
      expect(await store.findEvent("evt_missing")).toBeUndefined();
    });

    it("writes a delivery per event for each enabled endpoint whose filter takes it, in the event's transaction", async () => {
      await store.webhooks.insertEndpoint(endpoint("whe_all"));
      await store.webhooks.insertEndpoint(endpoint("whe_verified", { eventTypes: ["verification.verified"] }));
      await store.webhooks.insertEndpoint(endpoint("whe_off", { enabled: false }));
      await store.webhooks.insertEndpoint(endpoint("whe_other", { applicationId: "app_other" }));
      const v = verification("ver_1");
      await create(v, "cli");
      expect(
        await store.saveVerification({ ...v, version: 2 }, 9, [ev(v, "verification.verified", T0 + 1)], true),
      ).toBe(false);
      await store.saveVerification({ ...v, version: 2 }, 1, [ev(v, "verification.verified", T0 + 2)], true);
      expect((await store.webhooks.listDeliveries("whe_all", 10)).map((d) => d.status)).toEqual(["pending", "pending"]);
      const [verified] = await store.webhooks.listDeliveries("whe_verified", 10);
      expect(verified).toMatchObject({ status: "pending", attempts: 0, verificationId: "ver_1", createdAt: T0 + 2 });
      expect(await store.webhooks.listDeliveries("whe_verified", 10)).toHaveLength(1);
      expect(await store.webhooks.listDeliveries("whe_off", 10)).toEqual([]);
      expect(await store.webhooks.listDeliveries("whe_other", 10)).toEqual([]);
    });

    it("claims deliveries in order per verification and endpoint, and records attempts", async () => {
      await store.webhooks.insertEndpoint(endpoint("whe_1"));
      const v = verification("ver_1");
      const w = verification("ver_2");
      await create(v, "a");
      await create(w, "b");
      await store.saveVerification({ ...v, version: 2 }, 1, [ev(v, "attempt.ringing", T0 + 1)], false);
      const claimed = await store.webhooks.claimDeliveries(T0 + 10, T0 + 1000, 10);
      expect(claimed.map((c) => [c.delivery.verificationId, c.event.type])).toEqual([
        ["ver_1", "verification.started"],
        ["ver_2", "verification.started"],
        ["ver_1", "attempt.ringing"],
      ]);
      expect(claimed[0]?.endpoint.id).toBe("whe_1");
      expect(await store.webhooks.claimDeliveries(T0 + 10, T0 + 1000, 10)).toEqual([]);
      const [first, second, third] = claimed.map((c) => c.delivery.id) as [string, string, string];
      const attempt = (deliveryId: string, statusCode: number | null) => ({
        id: `${deliveryId}_a`,
        deliveryId,
        endpointId: "whe_1",
        attemptedAt: T0 + 20,
        statusCode,
        latencyMs: 7,
        error: statusCode === null ? "timeout" : null,
      });
      // ver_1's first delivery fails and backs off: its second waits behind it, ver_2's is delivered.
      await store.webhooks.completeDeliveries(
        [
          { deliveryId: first, attempt: attempt(first, null), status: "pending", nextAttemptAt: T0 + 5000 },
          { deliveryId: second, attempt: attempt(second, 200), status: "delivered", nextAttemptAt: T0 + 20 },
        ],
        [third],
      );
      expect(await store.webhooks.claimDeliveries(T0 + 100, T0 + 1000, 10)).toEqual([]);
      const again = await store.webhooks.claimDeliveries(T0 + 5000, T0 + 6000, 10);
      expect(again.map((c) => c.delivery.id)).toEqual([first, third]);
      expect(again[0]?.delivery).toMatchObject({ attempts: 1, lastError: "timeout", lastLatencyMs: 7 });
      const log = await store.webhooks.getDelivery(second);
      expect(log?.delivery).toMatchObject({ status: "delivered", lastStatusCode: 200, endedAt: T0 + 20 });
      expect(log?.attempts).toEqual([attempt(second, 200)]);
      // 410: the endpoint is disabled and nothing more is claimed for it
      await store.webhooks.completeDeliveries([
        {
          deliveryId: first,
          attempt: { ...attempt(first, 410), id: "x2" },
          status: "failed",
          nextAttemptAt: T0,
          disableEndpoint: "gone",
        },
      ]);
      expect(await store.webhooks.getEndpoint("whe_1")).toMatchObject({ enabled: false, disabledReason: "gone" });
      expect(await store.webhooks.claimDeliveries(T0 + 99_000, T0 + 100_000, 10)).toEqual([]);
      expect(await store.webhooks.replayDelivery(second, T0 + 50)).toBe(true);
      expect(await store.webhooks.replayDelivery("msg_missing", T0 + 50)).toBe(false);
      expect((await store.webhooks.getDelivery(second))?.delivery).toMatchObject({ status: "pending", attempts: 0 });
    });

    it("claims a chain's later deliveries only with its head, which a backing-off head takes along (issue 24)", async () => {
      await store.webhooks.insertEndpoint(endpoint("whe_1"));
      const v = verification("ver_1");
      await create(v, "a");
      await store.saveVerification({ ...v, version: 2 }, 1, [ev(v, "attempt.ringing", T0 + 1)], false);
      const [head, next] = (await store.webhooks.claimDeliveries(T0 + 10, T0 + 1000, 1)).map((c) => c.delivery.id) as [
        string,
        string,
      ];
      expect(next).toBeDefined();
      await store.webhooks.completeDeliveries(
        [
          {
            deliveryId: head,
            attempt: {
              id: "att_x",
              deliveryId: head,
              endpointId: "whe_1",
              attemptedAt: T0 + 20,
              statusCode: 500,
              latencyMs: 3,
              error: "HTTP 500",
            },
            status: "pending",
            nextAttemptAt: T0 + 5000,
          },
        ],
        [next],
      );
      // The rest of the chain waits with its head, out of the due range.
      expect((await store.webhooks.getDelivery(next))?.delivery.nextAttemptAt).toBe(T0 + 5000);
      expect(await store.webhooks.claimDeliveries(T0 + 4999, T0 + 6000, 10)).toEqual([]);
      expect((await store.webhooks.claimDeliveries(T0 + 5000, T0 + 6000, 10)).map((c) => c.delivery.id)).toEqual([
        head,
        next,
      ]);
    });

    it("renews a claim only with its token: a lapsed claim taken by another worker stays theirs (issue 24)", async () => {
      await store.webhooks.insertEndpoint(endpoint("whe_1"));
      const v = verification("ver_1");
      await create(v, "a");
      const ids = (await store.webhooks.claimDeliveries(T0 + 10, T0 + 1000, 10)).map((c) => c.delivery.id);
      expect(ids).toHaveLength(1);
      expect(await store.webhooks.renewClaims(ids, T0 + 1000, T0 + 2000)).toBe(1);
      expect(await store.webhooks.renewClaims(ids, T0 + 1000, T0 + 3000)).toBe(0);
      expect(await store.webhooks.claimDeliveries(T0 + 1500, T0 + 4000, 10)).toEqual([]);
      // The renewed lease lapses at T0 + 2000 and another worker claims the delivery.
      const taken = await store.webhooks.claimDeliveries(T0 + 2500, T0 + 5000, 10);
      expect(taken.map((c) => c.delivery.id)).toEqual(ids);
      expect(await store.webhooks.renewClaims(ids, T0 + 2000, T0 + 9000)).toBe(0);
      expect(await store.webhooks.renewClaims(ids, T0 + 5000, T0 + 9000)).toBe(1);
    });

    it("manages webhook endpoints and decision callbacks", async () => {
      const e = endpoint("whe_1", { eventTypes: ["attempt.failed", "verification.failed"] });
      await store.webhooks.insertEndpoint(e);
      expect(await store.webhooks.getEndpoint("whe_1")).toEqual(e);
      const rotated = { ...e, previousSecret: e.secret, previousSecretExpiresAt: T0 + 1, secret: "whsec_b", url: "x" };
      await store.webhooks.updateEndpoint(rotated);
      expect(await store.webhooks.listEndpoints("app_default")).toEqual([rotated]);
      expect(await store.webhooks.listEndpoints("app_other")).toEqual([]);
      const v = verification("ver_1");
      await create(v);
      await store.saveVerification({ ...v, version: 2 }, 1, [ev(v, "attempt.failed", T0 + 1)], false);
      await store.webhooks.deleteEndpoint("whe_1", T0 + 2);
      expect(await store.webhooks.getEndpoint("whe_1")).toBeUndefined();

      const callback = {
        applicationId: "app_default",
        url: "https://example.com/decide",
        secret: "whsec_c",
        timeoutMs: 1500,
        defaultDecision: "deny" as const,
        createdAt: T0,
        updatedAt: T0,
        format: "flashverify" as const,
      };
      await store.webhooks.putDecisionCallback(callback);
      await store.webhooks.putDecisionCallback({ ...callback, timeoutMs: 900, updatedAt: T0 + 1 });
      expect(await store.webhooks.getDecisionCallback("app_default")).toEqual({
        ...callback,
        timeoutMs: 900,
        updatedAt: T0 + 1,
      });
      expect(await store.webhooks.deleteDecisionCallback("app_default")).toBe(true);
      expect(await store.webhooks.deleteDecisionCallback("app_default")).toBe(false);
      expect(await store.webhooks.getDecisionCallback("app_default")).toBeUndefined();
    });

    it("claims an Idempotency-Key once per application, atomically with the verification", async () => {
      const record = (verificationId: string, applicationId = "app_default") => ({
        applicationId,
        key: "k1",
        requestHash: "h",
        verificationId,
        createdAt: T0,
      });
      const withKey = (v: Verification, cliKey: string, applicationId?: string) =>
        store.createVerification({
          verification: v,
          lease: { poolId: "pool_a", cliKey, verificationId: v.id, expiresAt: v.expiresAt },
          phoneLastCliKey: cliKey,
          events: started(v),
          idempotency: record(v.id, applicationId),
        });
      expect(await withKey(verification("ver_1"), "a")).toBe("created");
      expect(await withKey(verification("ver_2"), "b")).toBe("idempotency_taken");
      expect(await store.getVerification("ver_2")).toBeUndefined();
      expect(await withKey(verification("ver_3", { applicationId: "app_other" }), "c", "app_other")).toBe("created");
      expect(await store.findIdempotency("app_default", "k1")).toEqual(record("ver_1"));
      // a lease conflict rolls the key back, so a retry can still use it
      await withKey(verification("ver_4"), "a", "app_fourth").then((r) => expect(r).toBe("cli_taken"));
      expect(await store.findIdempotency("app_fourth", "k1")).toBeUndefined();
    });

    it("round-trips a verification's risk assessment", async () => {
      const risk = {
        outcome: "challenge" as const,
        score: 0.6,
        factors: [{ name: "velocity", weight: 0.3, detail: "3 of 5 starts" }],
        reasons: ["score 0.6 >= challenge threshold 0.5"],
      };
      const v = verification("ver_1", { risk });
      await create(v);
      expect((await store.getVerification("ver_1"))?.risk).toEqual(risk);
    });

    it("keeps fraud rules with their events, lists the unexpired ones, deletes per application", async () => {
      const rule = (id: string, overrides: Partial<FraudRule> = {}): FraudRule => ({
        id,
        applicationId: "app_default",
        list: "block",
        scope: "prefix",
        value: "+4474001234",
        reason: "SUSPECTED_PUMPING",
        source: "detector",
        shadow: false,
        createdAt: T0,
        expiresAt: T0 + 1000,
        ...overrides,
      });
      const event: DomainEvent = {
        type: "verification.blocked",
        verificationId: "ver_blocked",
        attemptId: null,
        at: T0,
        data: { scope: "prefix" },
      };
      await store.insertFraudRule(rule("frd_1"), [event]);
      await store.insertFraudRule(rule("frd_2", { expiresAt: null, list: "allow", scope: "number", shadow: true }), []);
      await store.insertFraudRule(rule("frd_3", { expiresAt: T0 + 10 }), []);
      expect((await store.listEvents("ver_blocked")).map((e) => e.type)).toEqual(["verification.blocked"]);
      expect((await store.listFraudRules(T0 + 10)).map((r) => r.id)).toEqual(["frd_1", "frd_2"]);
      expect((await store.listFraudRules(T0))[1]).toEqual(
        rule("frd_2", { expiresAt: null, list: "allow", scope: "number", shadow: true }),
      );
      expect(await store.deleteFraudRule("app_other", "frd_1")).toBe(false);
      expect(await store.deleteFraudRule("app_default", "frd_1")).toBe(true);
      expect(await store.deleteFraudRule("app_default", "frd_1")).toBe(false);
      expect((await store.listFraudRules(T0)).map((r) => r.id)).toEqual(["frd_2", "frd_3"]);
    });

    it("keeps the first value of a setting", async () => {
      expect(await store.getOrCreateSetting("s", "one")).toBe("one");
      expect(await store.getOrCreateSetting("s", "two")).toBe("one");
    });

    it("stores applications, API keys by hash, and pools", async () => {
      await store.ensureApplication({ id: "app_x", name: "x", createdAt: T0 });
      await store.ensureApplication({ id: "app_x", name: "x", createdAt: T0 });
      const key = { id: "key_1", applicationId: "app_x", keyHash: "h1", label: "cli", createdAt: T0 };
      await store.insertApiKey(key);
      expect(await store.findApiKey("h1")).toEqual(key);
      expect(await store.findApiKey("h2")).toBeUndefined();
      const pool = {
        id: "pool_a",
        name: "a",
        numbers: ["+4420794xxxxx"],
        codeLength: 4,
        countries: ["*"],
        createdAt: T0,
      };
      await store.upsertPool(pool);
      await store.upsertPool({ ...pool, codeLength: 5 });
      expect(await store.listPools()).toEqual([{ ...pool, codeLength: 5 }]);
    });

    operatorConformance(() => store);
    reverseConformance(() => store);
  });
}
