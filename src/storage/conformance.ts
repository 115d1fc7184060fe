/**
 * The Store conformance suite: every store implementation (SQLite today, PostgreSQL next) runs these same tests,
 * so the core can rely on the port's promises rather than on one database's behaviour.
 *
 * @example
 * runStoreConformance("sqlite", async () => openSqliteStore(":memory:"));
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Store } from "../core/ports.js";
import type { DomainEvent, Verification } from "../core/types.js";

const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);

function verification(id: string, overrides: Partial<Verification> = {}): Verification {
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
        expiresAt: T0 + 60_000,
      },
    ],
    ...overrides,
  };
}

const started = (v: Verification): DomainEvent[] => [
  { type: "verification.started", verificationId: v.id, attemptId: null, at: v.createdAt, data: { phone: v.phone } },
];

export function runStoreConformance(name: string, open: () => Promise<Store>): void {
  describe(`Store conformance: ${name}`, () => {
    let store: Store;
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

    it("lists overdue pending verifications oldest first", async () => {
      await create(verification("ver_a", { expiresAt: T0 + 10 }), "a");
      await create(verification("ver_b", { expiresAt: T0 + 5 }), "b");
      await create(verification("ver_c", { expiresAt: T0 + 100 }), "c");
      expect(await store.listExpired(T0 + 10, 10)).toEqual(["ver_b", "ver_a"]);
      expect(await store.listExpired(T0 + 10, 1)).toEqual(["ver_b"]);
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
  });
}
