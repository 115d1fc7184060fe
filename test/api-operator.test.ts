/**
 * The operator's API on the real stack (SQLite, the sandbox's handsets and SMSC): the verification list and live
 * feed, statistics with costs, applications and keys, and pools. What the dashboard shows comes from these.
 */
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auth, createTestApp, eventually, TEST_KEY, type TestApp } from "./support/test-app.js";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ WORKFLOW: "flashcall,sms" });
});
afterAll(() => t.close());

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read field by field and asserted, not trusted
type Json = Record<string, any>;

const request = async (method: "GET" | "POST" | "DELETE", url: string, payload?: Json, token = TEST_KEY) => {
  const res = await t.app.inject({ method, url, headers: auth(token), ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: res.body ? (res.json() as Json) : {} };
};

async function start(phone: string): Promise<Json> {
  const res = await request("POST", "/v1/verifications", { phone });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** A flash call that verifies with the caller ID the handset saw. */
async function verifiedFlashCall(phone: string): Promise<Json> {
  const started = await start(phone);
  const cli = await eventually(() => {
    const call = t.services.sandbox?.handsets.calls(phone)[0];
    return call?.result === "missed" ? call.from : undefined;
  });
  const checked = await request("POST", `/v1/verifications/${started.id}/check`, { caller_id: cli });
  expect(checked.body.status).toBe("verified");
  return started;
}

/** A busy number: the flash call fails, the SMS goes out, and its code verifies. */
async function verifiedBySms(phone: string): Promise<Json> {
  const started = await start(phone);
  const code = await eventually(async () => {
    const res = await t.app.inject({ method: "GET", url: `/sandbox/phones/${encodeURIComponent(phone)}` });
    return (res.json().messages as Json[])[0]?.text.match(/\b(\d{6})\b/)?.[1] as string | undefined;
  });
  await eventually(async () => {
    const v = await request("GET", `/v1/verifications/${started.id}`);
    return v.body.attempts[1]?.status === "delivered" ? true : undefined;
  });
  const checked = await request("POST", `/v1/verifications/${started.id}/check`, { code });
  expect(checked.body.status).toBe("verified");
  return started;
}

describe("the operator's API", () => {
  let flash: Json;
  let sms: Json;
  let pending: Json;
  beforeAll(async () => {
    flash = await verifiedFlashCall("+447400140001");
    sms = await verifiedBySms("+447400140486");
    pending = await start("+4915112345678");
    // Its call rings and ends (a missed call) while the verification stays pending: a delivered call is priced.
    await eventually(async () => {
      const v = await request("GET", `/v1/verifications/${pending.id}`);
      return v.body.attempts[0]?.ended_at ? true : undefined;
    });
  });

  it("lists verifications newest first with their cost, filtered and paged", async () => {
    const all = await request("GET", "/v1/verifications");
    expect(all.status).toBe(200);
    expect(all.body.data.map((v: Json) => v.id)).toEqual([pending.id, sms.id, flash.id]);
    const bySms = all.body.data[1];
    expect(bySms).toMatchObject({ status: "verified", channel: "sms", country: "GB" });
    // The busy flash call never rang: it costs nothing, so the SMS it fell back to saves nothing and loses nothing.
    expect(bySms.cost).toEqual({ currency: "USD", total: 0.04, sms_only: 0.04, saving: 0 });
    expect(bySms.attempts.map((a: Json) => [a.channel, a.reason, a.cost])).toEqual([
      ["flashcall", "busy", 0],
      ["sms", "delivered", 0.04],
    ]);
    expect(all.body.data[2].cost).toEqual({ currency: "USD", total: 0.0115, sms_only: 0.04, saving: 0.0285 });

    const filtered = await request("GET", "/v1/verifications?status=verified&channel=sms&country=GB");
    expect(filtered.body.data.map((v: Json) => v.id)).toEqual([sms.id]);
    expect((await request("GET", "/v1/verifications?country=DE")).body.data.map((v: Json) => v.id)).toEqual([
      pending.id,
    ]);

    const first = await request("GET", "/v1/verifications?limit=2");
    expect(first.body.data).toHaveLength(2);
    const second = await request("GET", `/v1/verifications?limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body.data.map((v: Json) => v.id)).toEqual([flash.id]);
    expect(second.body.next_cursor).toBeNull();
  });

  it("refuses bad list queries and client tokens", async () => {
    expect((await request("GET", "/v1/verifications?cursor=bm9wZQ")).body.error.code).toBe("INVALID_REQUEST");
    expect((await request("GET", "/v1/verifications?status=lost")).status).toBe(400);
    expect((await request("GET", "/v1/verifications?country=gb")).status).toBe(400);
    expect((await request("GET", "/v1/verifications", undefined, flash.client_token)).body.error.code).toBe(
      "FORBIDDEN",
    );
    expect((await t.app.inject({ method: "GET", url: "/v1/verifications" })).statusCode).toBe(401);
    expect((await request("GET", "/v1/stats", undefined, flash.client_token)).status).toBe(403);
  });

  it("reports conversion, time to verify, outcomes by channel, country and trunk, cost and pools", async () => {
    const res = await request("GET", "/v1/stats?buckets=4");
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const s = res.body;
    expect(s.verifications).toMatchObject({ total: 3, verified: 2, pending: 1, conversion_rate: 1 });
    expect(s.time_to_verify_ms.count).toBe(2);
    expect(s.time_to_verify_ms.p50).toBeGreaterThan(0);
    expect(s.time_to_verify_ms.p90).toBeGreaterThanOrEqual(s.time_to_verify_ms.p50);
    // A GB flash call that rang, a busy GB call (not charged), a GB SMS and a DE flash call that rang, at list
    // prices; SMS-only: two GB SMS and one DE SMS.
    expect(s.cost).toMatchObject({ currency: "USD", total: 0.0625, sms_only: 0.17, saving: 0.1075 });
    expect(s.cost.per_verification).toBeCloseTo(0.0625 / 3, 6);
    const flashcall = s.by_channel.find((c: Json) => c.channel === "flashcall");
    expect(flashcall).toMatchObject({ attempts: 3, failed: 1, failure_reasons: { busy: 1 } });
    expect(s.by_channel.find((c: Json) => c.channel === "sms")).toMatchObject({ attempts: 1, delivered: 1 });
    expect(s.by_country.map((c: Json) => [c.country, c.verifications])).toEqual([
      ["GB", 2],
      ["DE", 1],
    ]);
    // Both calls that rang (the GB one and the DE one) and the busy one went through the sandbox's trunk.
    expect(s.by_trunk.find((tr: Json) => tr.trunk === "sandbox")).toMatchObject({ failed: 1, delivered: 2 });
    expect(s.series).toHaveLength(4);
    expect(s.series.reduce((n: number, p: Json) => n + p.verifications, 0)).toBe(3);
    expect(s.fraud.risk_outcomes).toEqual({ allow: 3 });
    expect(s.pools[0]).toMatchObject({ id: "pool_default", live_leases: 1, within_bound: true });
    expect(s.pools[0].guess_probability).toBeGreaterThan(0);

    const empty = await request("GET", "/v1/stats?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z&buckets=2");
    expect(empty.body).toMatchObject({ verifications: { total: 0, conversion_rate: null }, cost: { total: 0 } });
    expect((await request("GET", "/v1/stats?from=2020-01-02T00:00:00Z&to=2020-01-01T00:00:00Z")).status).toBe(400);
    expect((await request("GET", "/v1/stats?buckets=0")).status).toBe(400);
  });

  it("creates keys shown once, lists them without secrets, and revokes them", async () => {
    expect((await request("POST", "/v1/api-keys", { label: "" })).status).toBe(400);
    const before = (await request("GET", "/v1/api-keys")).body.data;
    const created = await request("POST", "/v1/api-keys", { label: "dashboard" });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^fv_/);
    const listed = (await request("GET", "/v1/api-keys")).body.data as Json[];
    expect(listed).toHaveLength(before.length + 1);
    expect(JSON.stringify(listed)).not.toContain(created.body.key);
    expect((await request("GET", "/v1/verifications", undefined, created.body.key)).status).toBe(200);

    expect((await request("DELETE", `/v1/api-keys/${created.body.id}`)).status).toBe(204);
    expect((await request("GET", "/v1/verifications", undefined, created.body.key)).status).toBe(401);
    expect((await request("DELETE", `/v1/api-keys/${created.body.id}`)).body.error.code).toBe("API_KEY_NOT_FOUND");
    const after = (await request("GET", "/v1/api-keys")).body.data as Json[];
    expect(after.find((k) => k.id === created.body.id)?.revoked_at).toEqual(expect.any(String));
  });

  it("lets the operator create applications, whose keys see only their own", async () => {
    const created = await request("POST", "/v1/applications", { name: "shop" });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: "shop", operator: false, api_key: { label: "first key" } });
    const shopKey = created.body.api_key.key as string;
    const apps = (await request("GET", "/v1/applications")).body.data.map((a: Json) => a.id);
    expect(apps).toEqual(["app_default", created.body.id]);
    expect((await request("GET", "/v1/applications", undefined, shopKey)).body.data.map((a: Json) => a.id)).toEqual([
      created.body.id,
    ]);
    expect((await request("GET", "/v1/verifications", undefined, shopKey)).body.data).toEqual([]);
    expect((await request("GET", `/v1/verifications/${flash.id}`, undefined, shopKey)).status).toBe(404);
    expect((await request("POST", "/v1/applications", { name: "x" }, shopKey)).body.error.code).toBe("FORBIDDEN");
    expect((await request("GET", "/v1/api-keys", undefined, shopKey)).body.data).toHaveLength(1);
    expect((await request("DELETE", `/v1/api-keys/${created.body.api_key.id}`)).status).toBe(404);
  });

  it("shows pools and lets the operator add pools and numbers", async () => {
    const pools = (await request("GET", "/v1/pools")).body.data as Json[];
    expect(pools.map((p) => p.id)).toEqual(["pool_default"]);
    expect(pools[0]?.size).toBeGreaterThan(0);
    const body = { name: "de", numbers: ["+4930901xxxxx"], code_length: 4, countries: ["de"] };
    const created = await request("POST", "/v1/pools", body);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ name: "de", size: 100_000, countries: ["DE"], live_leases: 0 });
    const grown = await request("POST", `/v1/pools/${created.body.id}/numbers`, { numbers: ["+4930902xxxxx"] });
    expect(grown.body).toMatchObject({ size: 200_000, numbers: ["+4930901xxxxx", "+4930902xxxxx"] });
    expect(t.services.pools.poolsFor("DE")[0]?.id).toBe(created.body.id);

    const overlapping = await request("POST", `/v1/pools/${created.body.id}/numbers`, { numbers: ["+49309011xxxx"] });
    expect(overlapping.body.error.code).toBe("INVALID_POOL");
    expect((await request("GET", "/v1/pools")).body.data[1].numbers).toHaveLength(2);
    expect((await request("POST", "/v1/pools/pool_default/numbers", { numbers: ["+4930903xxxxx"] })).status).toBe(422);
    expect((await request("POST", "/v1/pools/pool_nope/numbers", { numbers: ["+4930903xxxxx"] })).status).toBe(404);
    const shop = await request("POST", "/v1/applications", { name: "other" });
    const denied = await request("POST", "/v1/pools", body, shop.body.api_key.key);
    expect(denied.body.error.code).toBe("FORBIDDEN");
  });

  it("streams every event of the application as it commits", async () => {
    await t.app.listen({ port: 0, host: "127.0.0.1" });
    const { port } = t.app.server.address() as AddressInfo;
    const controller = new AbortController();
    const res = await fetch(`http://127.0.0.1:${port}/v1/events/stream`, {
      headers: auth(),
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = "";
    // Only what commits after the stream opened: a new verification's events.
    const started = await start("+447400140002");
    await eventually(async () => {
      const { value } = await reader.read();
      text += decoder.decode(value);
      return text.includes("event: attempt.ringing") ? true : undefined;
    });
    controller.abort();
    const ids = [...text.matchAll(/"verification_id":"(ver_[0-9a-z]+)"/g)].map((m) => m[1]);
    expect(ids).toContain(started.id);
    // Verifications that had ended before the stream opened have nothing new to say.
    expect(ids).not.toContain(flash.id);
    expect(ids).not.toContain(sms.id);
    expect(text).toContain("event: verification.started");
  });
});
