/**
 * The whole server on PostgreSQL: a flash call through the sandbox verifies, a busy one falls back to SMS, and the
 * events are there to page. Skipped with a notice where no PostgreSQL answers, unless CI requires it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POSTGRES_URL, postgresAvailable, testSchema } from "./support/postgres.js";
import { auth, createTestApp, eventually, type TestApp } from "./support/test-app.js";

const available = postgresAvailable();
describe.skipIf(!available)("the API on PostgreSQL", () => {
  let t: TestApp;
  let schema: Awaited<ReturnType<typeof testSchema>>;
  beforeAll(async () => {
    schema = await testSchema();
    const url = `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema.name}`)}`;
    t = await createTestApp({ DATABASE_URL: url, WORKFLOW: "flashcall,sms" });
  });
  afterAll(async () => {
    await t?.close();
    await schema?.drop();
  });

  it("verifies a flash call, falls back to SMS on a busy number, and pages the events", async () => {
    const phone = "+447400170001";
    const started = (
      await t.app.inject({ method: "POST", url: "/v1/verifications", headers: auth(), payload: { phone } })
    ).json();
    const cli = await eventually(() => {
      const call = t.services.sandbox?.handsets.calls(phone)[0];
      return call?.result === "missed" ? call.from : undefined;
    });
    const checked = await t.app.inject({
      method: "POST",
      url: `/v1/verifications/${started.id}/check`,
      headers: auth(started.client_token),
      payload: { caller_id: cli },
    });
    expect(checked.json()).toMatchObject({ status: "verified" });

    const busy = "+447400170486";
    const fallback = (
      await t.app.inject({ method: "POST", url: "/v1/verifications", headers: auth(), payload: { phone: busy } })
    ).json();
    const code = await eventually(() => t.services.sandbox?.smsc.messages(busy)[0]?.text.match(/\b(\d{6})\b/)?.[1]);
    const verified = await t.app.inject({
      method: "POST",
      url: `/v1/verifications/${fallback.id}/check`,
      headers: auth(),
      payload: { code },
    });
    expect(verified.json()).toMatchObject({ status: "verified" });

    const events = (await t.app.inject({ method: "GET", url: "/v1/events?limit=100", headers: auth() })).json();
    const types = (events.data as { type: string }[]).map((e) => e.type);
    expect(types.filter((type) => type === "verification.verified")).toHaveLength(2);
    expect(types).toContain("verification.fallback");

    // The database's figures on /metrics, PostgreSQL's connection pool among them.
    const text = (await t.app.inject({ method: "GET", url: "/metrics" })).body;
    const value = (series: string) =>
      Number(new RegExp(`^${series.replace(/[{}"]/g, "\\$&")} (\\S+)$`, "m").exec(text)?.[1]);
    expect(value("flashverify_verifications_live")).toBe(0);
    expect(value('flashverify_pool_leased{pool="pool_default"}')).toBe(0);
    expect(text).toContain('flashverify_verifications_ended_total{status="verified",channel="flashcall",reason=""} 1');
    expect(text).toContain('flashverify_verifications_ended_total{status="verified",channel="sms",reason=""} 1');
    const inUse = value('flashverify_db_pool_connections{state="in_use"}');
    const idle = value('flashverify_db_pool_connections{state="idle"}');
    expect(inUse + idle).toBeGreaterThanOrEqual(1);
    expect(inUse + idle).toBeLessThanOrEqual(10);
    expect(value('flashverify_db_pool_connections{state="waiting"}')).toBe(0);
    expect(value("flashverify_db_pool_utilization_ratio")).toBe(inUse / 10);
  });
});
