/**
 * The store conformance suite's part for the operator's views (OperatorStore): keys, the paged verification list
 * and the aggregates the statistics are made of. Run by runStoreConformance inside its own describe, so every store
 * (SQLite, the Kysely store over SQLite, PostgreSQL) answers the same.
 */
import { expect, it } from "vitest";
import type { OperatorStore } from "../../src/core/operator-store.js";
import type { Store } from "../../src/core/ports.js";
import type { Attempt, ChannelName, Verification, VerificationStatus } from "../../src/core/types.js";
import type { WebhookStore } from "../../src/events/webhook-store.js";

const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);
const MINUTE = 60_000;

interface Spec {
  id: string;
  at: number;
  status?: VerificationStatus;
  country?: string;
  app?: string;
  /** ms from start to verified */
  took?: number;
  risk?: "allow" | "challenge" | "shadow_block";
  attempts?: {
    channel: ChannelName;
    status: Attempt["status"];
    reason?: Attempt["reason"];
    cost?: number | null;
    trunk?: string;
  }[];
}

function verification(s: Spec): Verification {
  const status = s.status ?? "pending";
  return {
    id: s.id,
    applicationId: s.app ?? "app_default",
    phone: "+447400123456",
    country: s.country ?? "GB",
    status,
    reason: status === "failed" ? "attempt_failed" : null,
    reference: null,
    metadata: null,
    client: null,
    clientTokenHash: "hash",
    maxChecks: 3,
    checksUsed: 0,
    guessProbability: 0.0003,
    risk: s.risk ? { outcome: s.risk, score: 0.1, factors: [], reasons: [] } : null,
    verifiedCallerId: null,
    createdAt: s.at,
    updatedAt: s.at,
    expiresAt: s.at + 10 * MINUTE,
    endedAt: status === "pending" ? null : s.at + (s.took ?? 1000),
    version: 1,
    attempts: (s.attempts ?? [{ channel: "flashcall", status: "delivered", reason: "ringing_canceled" }]).map(
      (a, i) => ({
        id: `att_${s.id}_${i}`,
        verificationId: s.id,
        seq: i + 1,
        channel: a.channel,
        status: a.status,
        reason: a.reason ?? null,
        sipCode: null,
        poolId: a.channel === "flashcall" ? "pool_a" : null,
        cliKey: a.channel === "flashcall" ? `cli_${s.id}` : null,
        cliPrefix: a.channel === "flashcall" ? "+44207941" : null,
        codeLength: 4,
        codeMac: "mac",
        createdAt: s.at,
        dialedAt: s.at,
        ringingAt: null,
        endedAt: null,
        trunkId: a.trunk ?? (a.channel === "flashcall" ? "carrier_a" : null),
        invitedAt: null,
        reasonHeader: null,
        expiresAt: s.at + MINUTE,
        detail: null,
        cost: a.cost === undefined ? (a.channel === "flashcall" ? 0.0115 : 0.04) : a.cost,
      }),
    ),
    workflow: [{ channel: "flashcall", timeoutMs: MINUTE }],
    step: 0,
    stepDeadline: null,
    email: null,
  };
}

const SPECS: Spec[] = [
  { id: "ver_a", at: T0, status: "verified", took: 2000, risk: "allow" },
  { id: "ver_b", at: T0 + MINUTE, status: "verified", took: 4000, risk: "allow", country: "DE" },
  {
    id: "ver_c",
    at: T0 + 2 * MINUTE,
    status: "verified",
    took: 9000,
    risk: "challenge",
    attempts: [
      { channel: "flashcall", status: "failed", reason: "busy", trunk: "carrier_b" },
      { channel: "sms", status: "delivered", reason: "delivered" },
    ],
  },
  {
    id: "ver_d",
    at: T0 + 3 * MINUTE,
    status: "failed",
    risk: "shadow_block",
    attempts: [{ channel: "flashcall", status: "failed", reason: "shadow_blocked", cost: null }],
  },
  { id: "ver_e", at: T0 + 4 * MINUTE, status: "pending" },
  { id: "ver_other_app", at: T0 + 2 * MINUTE, status: "verified", app: "app_other" },
];

export function operatorConformance(
  current: () => Store & { readonly operator: OperatorStore; readonly webhooks: WebhookStore },
): void {
  const seed = async () => {
    for (const spec of SPECS) {
      const v = verification(spec);
      const created = await current().createVerification({
        verification: v,
        events: [{ type: "verification.started", verificationId: v.id, attemptId: null, at: v.createdAt, data: {} }],
      });
      expect(created).toBe("created");
    }
  };
  const range = { applicationId: "app_default", from: T0, to: T0 + 5 * MINUTE };

  it("lists, revokes and no longer finds API keys; lists applications", async () => {
    const store = current();
    await store.ensureApplication({ id: "app_x", name: "x", createdAt: T0 });
    await store.ensureApplication({ id: "app_y", name: "y", createdAt: T0 + 1 });
    await store.insertApiKey({ id: "key_1", applicationId: "app_x", keyHash: "h1", label: "one", createdAt: T0 });
    await store.insertApiKey({ id: "key_2", applicationId: "app_x", keyHash: "h2", label: "two", createdAt: T0 + 1 });
    expect((await store.operator.listApplications()).map((a) => a.id)).toEqual(["app_x", "app_y"]);
    expect(await store.operator.revokeApiKey("app_y", "key_1", T0 + 5)).toBe(false);
    expect(await store.operator.revokeApiKey("app_x", "key_1", T0 + 5)).toBe(true);
    expect(await store.operator.revokeApiKey("app_x", "key_1", T0 + 6)).toBe(false);
    expect(await store.findApiKey("h1")).toBeUndefined();
    expect((await store.findApiKey("h2"))?.id).toBe("key_2");
    expect(await store.operator.listApiKeys("app_x")).toEqual([
      { id: "key_1", applicationId: "app_x", keyHash: "h1", label: "one", createdAt: T0, revokedAt: T0 + 5 },
      { id: "key_2", applicationId: "app_x", keyHash: "h2", label: "two", createdAt: T0 + 1, revokedAt: null },
    ]);
  });

  it("lists an application's verifications newest first, filtered, from a keyset cursor, with attempts", async () => {
    await seed();
    const store = current();
    const ids = async (q: Partial<Parameters<OperatorStore["listVerifications"]>[0]> = {}) =>
      (await store.operator.listVerifications({ applicationId: "app_default", limit: 10, ...q })).map((v) => v.id);
    expect(await ids()).toEqual(["ver_e", "ver_d", "ver_c", "ver_b", "ver_a"]);
    expect(await ids({ status: "verified" })).toEqual(["ver_c", "ver_b", "ver_a"]);
    expect(await ids({ country: "DE" })).toEqual(["ver_b"]);
    expect(await ids({ channel: "sms" })).toEqual(["ver_c"]);
    expect(await ids({ limit: 2, before: { createdAt: T0 + 3 * MINUTE, id: "ver_d" } })).toEqual(["ver_c", "ver_b"]);
    const [c] = await store.operator.listVerifications({ applicationId: "app_default", limit: 1, channel: "sms" });
    expect(c).toEqual(await store.getVerification("ver_c"));
  });

  it("counts verifications by bucket, status, country, reason and risk outcome", async () => {
    await seed();
    const store = current();
    const buckets = await store.operator.verificationBuckets(range, 2 * MINUTE);
    const sorted = buckets.sort((a, b) => a.bucket - b.bucket || a.status.localeCompare(b.status));
    expect(sorted).toEqual([
      { bucket: 0, status: "verified", count: 2 },
      { bucket: 1, status: "failed", count: 1 },
      { bucket: 1, status: "verified", count: 1 },
      { bucket: 2, status: "pending", count: 1 },
    ]);
    const groups = await store.operator.verificationGroups(range);
    const byKey = Object.fromEntries(groups.map((g) => [`${g.country} ${g.status} ${g.riskOutcome}`, g.count]));
    expect(byKey).toEqual({
      "GB verified allow": 1,
      "DE verified allow": 1,
      "GB verified challenge": 1,
      "GB failed shadow_block": 1,
      "GB pending null": 1,
    });
    expect(groups.find((g) => g.status === "failed")?.reason).toBe("attempt_failed");
  });

  it("groups attempts with their costs, by bucket too, and reads time to verify by rank", async () => {
    await seed();
    const store = current();
    const groups = await store.operator.attemptGroups(range);
    const total = groups.reduce((sum, g) => sum + g.cost, 0);
    expect(total).toBeCloseTo(4 * 0.0115 + 0.04, 6);
    const busy = groups.find((g) => g.reason === "busy");
    expect(busy).toMatchObject({ channel: "flashcall", status: "failed", trunkId: "carrier_b", poolId: "pool_a" });
    expect(groups.find((g) => g.channel === "sms")).toMatchObject({ poolId: null, trunkId: null, count: 1 });
    expect(groups.filter((g) => g.country === "DE").map((g) => g.count)).toEqual([1]);
    const buckets = await store.operator.attemptBuckets(range, 5 * MINUTE);
    expect(buckets.map((b) => [b.bucket, b.channel, b.count]).sort()).toEqual([
      [0, "flashcall", 5],
      [0, "sms", 1],
    ]);
    expect(await store.operator.timeToVerify(range, [0.5, 0.9, 1])).toEqual({ count: 3, values: [4000, 9000, 9000] });
    expect(await store.operator.timeToVerify({ ...range, to: T0 }, [0.5])).toEqual({ count: 0, values: [null] });
  });

  it("counts block-list entries and webhook deliveries of a range, live leases, and the newest event", async () => {
    const store = current();
    const rule = {
      list: "block" as const,
      value: "+44740",
      reason: "r",
      expiresAt: null,
      applicationId: "app_default",
    };
    await store.insertFraudRule(
      { ...rule, id: "frd_1", scope: "prefix", source: "detector", shadow: false, createdAt: T0 },
      [],
    );
    await store.insertFraudRule(
      { ...rule, id: "frd_2", scope: "prefix", source: "detector", shadow: false, createdAt: T0 + 1 },
      [],
    );
    await store.insertFraudRule(
      { ...rule, id: "frd_3", scope: "country", source: "admin", shadow: false, createdAt: T0 - 1 },
      [],
    );
    expect(await store.operator.blockGroups(range)).toEqual([
      { source: "detector", scope: "prefix", shadow: false, count: 2 },
    ]);

    expect(await store.operator.latestEventSeq("app_default")).toBe(0);
    await store.webhooks.insertEndpoint({
      id: "whe_1",
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
    });
    const v = verification({ id: "ver_leased", at: T0 });
    await store.createVerification({
      verification: v,
      lease: { poolId: "pool_a", cliKey: "cli_1", verificationId: v.id, expiresAt: T0 + MINUTE },
      events: [
        { type: "verification.started", verificationId: v.id, attemptId: null, at: T0, data: {} },
        { type: "attempt.dialing", verificationId: v.id, attemptId: null, at: T0, data: {} },
      ],
    });
    const events = await store.listEvents(v.id);
    expect(await store.operator.latestEventSeq("app_default")).toBe(events.at(-1)?.seq);
    expect(await store.operator.latestEventSeq("app_other")).toBe(0);
    expect(await store.operator.liveLeaseCounts(T0)).toEqual(new Map([["pool_a", 1]]));
    expect(await store.operator.liveLeaseCounts(T0 + 2 * MINUTE)).toEqual(new Map());

    const [first] = await store.webhooks.claimDeliveries(T0, T0 + 1000, 1);
    expect(first).toBeDefined();
    await store.webhooks.completeDeliveries([
      {
        deliveryId: first?.delivery.id ?? "",
        attempt: {
          id: "wha_1",
          deliveryId: first?.delivery.id ?? "",
          endpointId: "whe_1",
          attemptedAt: T0 + 10,
          statusCode: 200,
          latencyMs: 42,
          error: null,
        },
        status: "delivered",
        nextAttemptAt: T0 + 10,
      },
    ]);
    const health = (await store.operator.deliveryGroups(range)).sort((a, b) => a.status.localeCompare(b.status));
    expect(health).toEqual([
      { endpointId: "whe_1", status: "delivered", count: 1, meanLatencyMs: 42, lastAt: T0 },
      { endpointId: "whe_1", status: "pending", count: 1, meanLatencyMs: null, lastAt: T0 },
    ]);
  });
}
