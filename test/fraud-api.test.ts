/**
 * The fraud controls through the HTTP API on the real stack (SQLite, the SIP UAC, the sandbox's handsets): the
 * defaults a newcomer gets, per-application settings, number policy, the code-space bound, the failure lockout,
 * the pumping detector, spend caps, risk outcomes including shadow blocks, and the admin lists.
 */
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { InjectOptions } from "fastify";
import { RateLimiterMemory } from "rate-limiter-flexible";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { Clock } from "../src/core/ports.js";
import type { SqliteStore } from "../src/storage/sqlite-store.js";
import { auth, createTestApp, DEFAULT_FRAUD_SETTINGS, eventually, TEST_KEY, type TestApp } from "./support/test-app.js";

const apps: TestApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function open(env: Record<string, string> = {}, clock?: Clock, overrides = {}): Promise<TestApp> {
  const t = await createTestApp(env, clock, overrides);
  apps.push(t);
  return t;
}

type Body = Record<string, unknown>;
const start = (t: TestApp, payload: Body, extra: Partial<InjectOptions> = {}) =>
  t.app.inject({ method: "POST", url: "/v1/verifications", headers: auth(), payload, ...extra });
const check = (t: TestApp, id: string, payload: Body, extra: Partial<InjectOptions> = {}) =>
  t.app.inject({ method: "POST", url: `/v1/verifications/${id}/check`, headers: auth(), payload, ...extra });
const calls = (t: TestApp, phone: string) => t.services.sandbox?.handsets.calls(phone) ?? [];
const missedCallFrom = (t: TestApp, phone: string, count = 1) =>
  eventually(() => {
    const seen = calls(t, phone);
    return seen.length >= count && seen[0]?.result === "missed" ? seen[0].from : undefined;
  });

/** The first `count` messages of an SSE stream (it stays open while the verification is pending). */
async function readSse(url: string, headers: Record<string, string>, count = 5) {
  const abort = new AbortController();
  const res = await fetch(url, { headers, signal: abort.signal });
  const messages: { event: string; data: string }[] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for await (const chunk of res.body ?? []) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const field = (name: string) =>
          block
            .split("\n")
            .find((l) => l.startsWith(`${name}: `))
            ?.slice(name.length + 2);
        const event = field("event");
        if (event) messages.push({ event, data: field("data") ?? "" });
      }
      if (messages.length >= count) break;
    }
  } finally {
    abort.abort();
  }
  return messages;
}

class MutableClock implements Clock {
  constructor(public t = Date.now()) {}
  now(): number {
    return this.t;
  }
}

describe("the defaults a newcomer gets", () => {
  it("allow 5 starts per number per 10 minutes, every spelling of it counted in one bucket", async () => {
    const t = await open(DEFAULT_FRAUD_SETTINGS);
    const spellings: Body[] = [
      { phone: "+447400200001" },
      { phone: "+44 7400 200001" },
      { phone: "0044 7400 200001" },
      { phone: "07400 200001", country: "GB" },
      { phone: "+44 (7400) 200-001" },
    ];
    for (const body of spellings) expect((await start(t, body)).statusCode, JSON.stringify(body)).toBe(201);
    const refused = await start(t, { phone: "07400200001", country: "GB" });
    expect(refused.statusCode).toBe(429);
    expect(refused.json().error).toMatchObject({
      code: "RATE_LIMITED",
      details: { limit: "destination", action: "start" },
    });
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(500);
    expect(Number(refused.headers["retry-after"])).toBeLessThanOrEqual(600);
    await eventually(() => (calls(t, "+447400200001").length === 5 ? true : undefined));
  });

  it("allow 10 starts per client IP (the request's address unless the body names one) and per device", async () => {
    const t = await open(DEFAULT_FRAUD_SETTINGS);
    const from = { remoteAddress: "203.0.113.10" };
    const phone = (i: number) => `+447400${String(i).padStart(2, "0")}3001`;
    for (let i = 0; i < 10; i++) expect((await start(t, { phone: phone(i) }, from)).statusCode).toBe(201);
    const refused = await start(t, { phone: phone(10) }, from);
    expect(refused.statusCode).toBe(429);
    expect(refused.json().error.details).toMatchObject({ limit: "ip" });
    expect((await start(t, { phone: phone(11), client: { ip: "198.51.100.7" } }, from)).statusCode).toBe(201);

    const device = (i: number) => ({
      phone: phone(20 + i),
      client: { ip: `198.51.100.${20 + i}`, device_id: "dev-1" },
    });
    for (let i = 0; i < 10; i++) expect((await start(t, device(i))).statusCode).toBe(201);
    expect((await start(t, device(10))).json().error.details).toMatchObject({ limit: "device" });
  });

  it("count the starts of POST /bat/messagelist against the request's address like any other start", async () => {
    const t = await open(DEFAULT_FRAUD_SETTINGS);
    const from = { remoteAddress: "203.0.113.20" };
    const phone = (i: number) => `447401${String(i).padStart(2, "0")}4001`;
    for (let i = 0; i < 10; i++) expect((await start(t, { phone: `+${phone(i)}` }, from)).statusCode).toBe(201);
    const list = await t.app.inject({
      method: "POST",
      url: "/bat/messagelist",
      headers: { "x-authorization-key": TEST_KEY },
      payload: { messages: Array.from({ length: 30 }, (_, i) => ({ to: phone(10 + i), type: "flashcall" })) },
      ...from,
    });
    expect(list.statusCode).toBe(200);
    const answers = list.json().messages as { status: string; error?: { code: string } }[];
    expect(answers.filter((m) => m.status === "accepted")).toHaveLength(0);
    expect(new Set(answers.map((m) => m.error?.code))).toEqual(new Set(["RATE_LIMITED"]));
    expect(calls(t, `+${phone(10)}`)).toEqual([]);
  });

  it("allow 20 starts per prefix (the number without its last 4 digits)", async () => {
    const t = await open(DEFAULT_FRAUD_SETTINGS);
    const body = (i: number) => ({
      phone: `+44740040${String(i).padStart(4, "0")}`,
      client: { ip: `198.51.100.${i + 1}` },
    });
    for (let i = 0; i < 20; i++) expect((await start(t, body(i))).statusCode, String(i)).toBe(201);
    const refused = await start(t, body(20));
    expect(refused.statusCode).toBe(429);
    expect(refused.json().error.details).toMatchObject({ limit: "prefix" });
  });

  it("limit checks apart from starts: 60 per IP per 10 minutes, unknown ids included", async () => {
    const t = await open(DEFAULT_FRAUD_SETTINGS);
    const from = { remoteAddress: "203.0.113.60" };
    for (let i = 0; i < 60; i++) expect((await check(t, "ver_unknown", { code: "1234" }, from)).statusCode).toBe(404);
    const refused = await check(t, "ver_unknown", { code: "1234" }, from);
    expect(refused.statusCode).toBe(429);
    expect(refused.json().error.details).toEqual({ limit: "ip", action: "check" });
    expect((await start(t, { phone: "+447400600001" }, from)).statusCode).toBe(201);
  });

  it("refuse number types a flash call cannot or should not reach, and high-risk prefixes, calling nobody", async () => {
    const t = await open(DEFAULT_FRAUD_SETTINGS);
    const refused: [string, string, Body][] = [
      ["+442079460123", "NUMBER_TYPE_NOT_ALLOWED", { number_type: "FIXED_LINE" }],
      ["+449012345678", "NUMBER_TYPE_NOT_ALLOWED", { number_type: "PREMIUM_RATE" }],
      ["+448001234567", "NUMBER_TYPE_NOT_ALLOWED", { number_type: "TOLL_FREE" }],
      ["+445612345678", "NUMBER_TYPE_NOT_ALLOWED", { number_type: "VOIP" }],
      ["+447010123456", "NUMBER_TYPE_NOT_ALLOWED", { number_type: "PERSONAL_NUMBER" }],
      ["+447640123456", "NUMBER_TYPE_NOT_ALLOWED", { number_type: "PAGER" }],
      ["+881612345678", "DESTINATION_BLOCKED", { reason: "high_risk_prefix", prefix: "+881" }],
    ];
    for (const [phone, code, details] of refused) {
      const res = await start(t, { phone });
      expect(res.json().error, phone).toMatchObject({ code, details });
      expect(res.statusCode).toBe(code === "DESTINATION_BLOCKED" ? 403 : 422);
    }
    // NANP numbers are all FIXED_LINE_OR_MOBILE: refusing that type would refuse the whole of North America.
    expect((await start(t, { phone: "+12015550123" })).statusCode).toBe(201);
    await sleep(100);
    for (const [phone] of refused) expect(calls(t, phone)).toEqual([]);
  });

  it("keep the sandbox's test numbers working", async () => {
    const t = await open(DEFAULT_FRAUD_SETTINGS);
    for (const phone of ["+447400120486", "+447400130404", "+447400140200", "+447400150001"]) {
      expect((await start(t, { phone }, { remoteAddress: `203.0.113.${phone.slice(-3)}` })).statusCode, phone).toBe(
        201,
      );
    }
  });

  it("are reported as data by GET /v1/fraud/policy, with each pool's guess probability against the bound", async () => {
    const t = await open(DEFAULT_FRAUD_SETTINGS);
    const res = await t.app.inject({ method: "GET", url: "/v1/fraud/policy", headers: auth() });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      max_guess_probability: 0.001,
      pools: [{ id: "pool_default", size: 100_000, guess_probability: 0.0003, within_bound: true }],
      start_limits: { destination: "5/10m", prefix: "20/10m", ip: "10/10m", device: "10/10m", country: "off" },
      check_limits: { destination: "20/10m", ip: "60/10m", application: "off" },
      check_failures_per_number: "10/1d",
      channels: { flashcall: { countries: ["*"], number_types: ["MOBILE", "FIXED_LINE_OR_MOBILE"] } },
      pumping: { mode: "on", min_sends_prefix: 20, min_conversion: 0.35, block_hours: 12 },
      daily_spend_usd: 100,
    });
  });
});

describe("per-application and per-channel settings", () => {
  it("override the defaults for one application", async () => {
    const t = await open({
      FRAUD_APPLICATIONS: JSON.stringify({
        app_default: { start_limits: "destination=2/10m", flashcall_countries: "GB,US" },
      }),
    });
    expect((await start(t, { phone: "+447400700001" })).statusCode).toBe(201);
    expect((await start(t, { phone: "+447400700001" })).statusCode).toBe(201);
    expect((await start(t, { phone: "+447400700001" })).json().error.details).toMatchObject({ limit: "destination" });
    const de = await start(t, { phone: "+4915112345678" });
    expect(de.statusCode).toBe(403);
    expect(de.json().error).toMatchObject({
      code: "COUNTRY_NOT_ALLOWED",
      details: { country: "DE", channel: "flashcall" },
    });
  });
});

describe("the code-space bound", () => {
  /** 1,000 numbers for GB, which win over the sandbox's `*` pool: 3 checks in 1,000 codes */
  const smallPool = async (t: TestApp) => {
    const pool = { id: "pool_small", name: "small", numbers: ["+442079400xxx"], codeLength: 4, countries: ["GB"] };
    await t.services.store.upsertPool({ ...pool, createdAt: 0 });
    await t.services.pools.refresh();
  };

  it("refuses a flash call from a pool whose guess probability is above the bound, and reports it", async () => {
    // A pool added at run time (the configuration refuses such a POOL_NUMBERS at start).
    const t = await open();
    await smallPool(t);
    const res = await start(t, { phone: "+447400800001" });
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatchObject({
      code: "GUESS_PROBABILITY_TOO_HIGH",
      details: { guess_probability: 0.003, bound: 0.001 },
    });
    const policy = (await t.app.inject({ method: "GET", url: "/v1/fraud/policy", headers: auth() })).json();
    expect(policy.pools).toContainEqual(
      expect.objectContaining({ size: 1000, guess_probability: 0.003, within_bound: false }),
    );
    await sleep(50);
    expect(calls(t, "+447400800001")).toEqual([]);
  });

  it("lets the operator loosen the bound", async () => {
    const t = await open({ FRAUD_MAX_GUESS_PROBABILITY: "0.01" });
    await smallPool(t);
    expect((await start(t, { phone: "+447400800002" })).json()).toMatchObject({ guess_probability: 0.003 });
  });
});

describe("the failure budget of a number", () => {
  it("spans verifications; once spent, the right code answers exactly like a wrong one, and starts are refused", async () => {
    const t = await open({ FRAUD_CHECK_FAILURES: "" });
    const phone = "+447400900001";
    const wrongOf = (cli: string) => String((Number(cli.slice(-4)) + 1) % 10_000).padStart(4, "0");
    const answers: unknown[] = [];
    for (let v = 0; v < 3; v++) {
      const s = (await start(t, { phone })).json();
      const cli = await missedCallFrom(t, phone, v + 1);
      for (let i = 0; i < 3; i++) answers.push((await check(t, s.id, { code: wrongOf(cli) })).json().status);
    }
    expect(answers).toEqual(Array(3).fill(["pending", "pending", "failed"]).flat());
    // The fourth verification: one more wrong code spends the budget (10 per 24 h by default).
    const s = (await start(t, { phone })).json();
    const cli = await missedCallFrom(t, phone, 4);
    const wrong = await check(t, s.id, { code: wrongOf(cli) });
    const right = await check(t, s.id, { caller_id: cli });
    expect(wrong.statusCode).toBe(200);
    expect(right.statusCode).toBe(200);
    expect(Object.keys(right.json())).toEqual(Object.keys(wrong.json()));
    expect(wrong.json()).toMatchObject({ status: "pending", attempts_remaining: 2 });
    expect(right.json()).toMatchObject({ status: "pending", attempts_remaining: 1 });
    expect((await check(t, s.id, { code: cli.slice(-4) })).json()).toMatchObject({ status: "failed" });

    const refused = await start(t, { phone });
    expect(refused.statusCode).toBe(429);
    expect(refused.json().error.details).toEqual({ limit: "check_failures" });
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(86_000);
  });
});

describe("the pumping detector", () => {
  const pumpedNumber = (i: number) => `+44740050${String(i).padStart(4, "0")}`;

  async function attack(t: TestApp, count: number, offset = 0) {
    const codes = new Map<string, number>();
    for (let batch = 0; batch < count; batch += 100) {
      const responses = await Promise.all(
        Array.from({ length: Math.min(100, count - batch) }, (_, i) =>
          start(t, { phone: pumpedNumber(offset + batch + i) }),
        ),
      );
      for (const r of responses) {
        const code = r.statusCode === 201 ? "201" : r.json().error.code;
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }
    }
    return codes;
  }

  const paidCalls = (t: TestApp, count: number, offset = 0) =>
    Array.from({ length: count }, (_, i) => calls(t, pumpedNumber(offset + i)).length).reduce((a, b) => a + b, 0);

  it("blocks a prefix nobody verifies after its minimum volume, before paying for more, and records why", async () => {
    const t = await open({ FRAUD_PUMPING: "" });
    const codes = await attack(t, 2000);
    console.log(
      `pumping attack: 2000 starts to one prefix, nobody verifying -> ${JSON.stringify(Object.fromEntries(codes))}`,
    );
    expect(codes.get("201")).toBe(20);
    expect(codes.get("SUSPECTED_PUMPING")).toBe(1980);
    await sleep(200);
    const paid = paidCalls(t, 2000);
    console.log(`pumping attack: ${paid} flash calls placed (minimum volume 20)`);
    expect(paid).toBeLessThanOrEqual(20);

    const refused = await start(t, { phone: pumpedNumber(3000) });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.details).toMatchObject({ scope: "prefix", value: "+44740050" });
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(12 * 3600 - 60);

    const blocks = (await t.app.inject({ method: "GET", url: "/v1/blocks", headers: auth() })).json().data;
    expect(blocks).toMatchObject([{ type: "prefix", value: "+44740050", source: "detector", shadow: false }]);
    const events = (t.services.store as unknown as SqliteStore).db
      .prepare("select data from events where type = 'verification.blocked'")
      .all() as { data: string }[];
    const blocked = events.map((e) => JSON.parse(e.data));
    expect(blocked.filter((e) => e.reason === "SUSPECTED_PUMPING")).toMatchObject([
      { reason: "SUSPECTED_PUMPING", scope: "prefix", value: "+44740050", sends: 20, verified: 0 },
    ]);
    // Every refused start is recorded too, with its code.
    expect(blocked.filter((e) => e.reason === "refused" && e.code === "SUSPECTED_PUMPING")).toHaveLength(1981);

    // A known-good number in the blocked prefix still gets through.
    const allow = { type: "number", value: pumpedNumber(4000) };
    expect(
      (await t.app.inject({ method: "POST", url: "/v1/allowlist", headers: auth(), payload: allow })).statusCode,
    ).toBe(201);
    expect((await start(t, { phone: pumpedNumber(4000) })).statusCode).toBe(201);
  });

  it("doubles the block while the prefix keeps pumping", async () => {
    const clock = new MutableClock();
    const t = await open({ FRAUD_PUMPING: "" }, clock);
    await attack(t, 21);
    clock.t += 12 * 3_600_000 + 1000;
    expect((await attack(t, 21, 100)).get("201")).toBe(20);
    const blocks = (await t.app.inject({ method: "GET", url: "/v1/blocks", headers: auth() })).json().data;
    expect(blocks).toHaveLength(1);
    const hours = (Date.parse(blocks[0].expires_at) - Date.parse(blocks[0].created_at)) / 3_600_000;
    expect(hours).toBe(24);
  });

  it("in shadow mode records what it would block and blocks nothing", async () => {
    const t = await open({ FRAUD_PUMPING: "shadow" });
    const codes = await attack(t, 60);
    expect(codes.get("201")).toBe(60);
    const blocks = (await t.app.inject({ method: "GET", url: "/v1/blocks", headers: auth() })).json().data;
    expect(blocks).toMatchObject([{ type: "prefix", value: "+44740050", source: "detector", shadow: true }]);
  });
});

describe("daily spend caps", () => {
  it("refuse sends past the application's and the country's cap at list prices", async () => {
    const t = await open({ FRAUD_DAILY_SPEND_USD: "0.05", FRAUD_DAILY_SPEND_COUNTRY_USD: "0.03" });
    // GB flash calls list at 0.0115 USD: two fit the country's 0.03, the third does not.
    expect((await start(t, { phone: "+447400110001" })).statusCode).toBe(201);
    expect((await start(t, { phone: "+447400110002" })).statusCode).toBe(201);
    const gb = await start(t, { phone: "+447400110003" });
    expect(gb.statusCode).toBe(429);
    expect(gb.json().error).toMatchObject({ code: "SPEND_CAP_REACHED", details: { budget: "country", cap_usd: 0.03 } });
    // DE (0.011) fits its own country cap; the application's 0.05 is then spent (0.023 + 0.022 + 0.011 > 0.05).
    expect((await start(t, { phone: "+4915112345678" })).statusCode).toBe(201);
    expect((await start(t, { phone: "+4915112345679" })).statusCode).toBe(201);
    const app = await start(t, { phone: "+393123456789" });
    expect(app.json().error).toMatchObject({ code: "SPEND_CAP_REACHED", details: { budget: "application" } });
  });
});

describe("risk signals", () => {
  const header = { "cf-ipcountry": "NG" };

  it("store a challenge with its factors on the verification, for API keys only", async () => {
    const t = await open({ FRAUD_IP_COUNTRY_HEADER: "cf-ipcountry", FRAUD_RISK_CHALLENGE_SCORE: "0.3" });
    const client = { device_id: "dev-9", platform: "android", app_version: "1.2.3", user_agent: "okhttp/4" };
    const res = await start(t, { phone: "+447400120001", client }, { headers: { ...auth(), ...header } });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.verification.risk).toMatchObject({
      outcome: "challenge",
      score: 0.4,
      factors: [{ name: "ip_country_mismatch" }, { name: "new_device" }],
    });
    expect(body.verification.client).toEqual({ ...client, ip: "127.0.0.1" });
    const read = await t.app.inject({ method: "GET", url: `/v1/verifications/${body.id}`, headers: auth() });
    expect(read.json().risk.outcome).toBe("challenge");
    const asClient = await t.app.inject({
      method: "GET",
      url: `/v1/verifications/${body.id}`,
      headers: auth(body.client_token),
    });
    expect(asClient.json()).toMatchObject({ risk: null, client: null });

    // Once that device has verified a number, it is no longer new.
    const cli = await missedCallFrom(t, "+447400120001");
    expect((await check(t, body.id, { caller_id: cli })).json().status).toBe("verified");
    const again = await start(t, { phone: "+447400120002", client }, { headers: { ...auth(), ...header } });
    expect(again.json().verification.risk.factors.map((f: { name: string }) => f.name)).toEqual([
      "ip_country_mismatch",
    ]);
  });

  it("shadow_block answers like a start, sends nothing, never verifies, and shows the app a missed call", async () => {
    const t = await open({
      FRAUD_IP_COUNTRY_HEADER: "cf-ipcountry",
      FRAUD_RISK_BLOCK_SCORE: "0.3",
      FRAUD_RISK_BLOCK_ACTION: "shadow_block",
    });
    const normal = await start(t, { phone: "+447400130001" });
    const shadow = await start(t, { phone: "+447400130002" }, { headers: { ...auth(), ...header } });
    expect(shadow.statusCode).toBe(201);
    const body = shadow.json();
    expect(Object.keys(body)).toEqual(Object.keys(normal.json()));
    expect(body.flashcall.pattern).toMatch(/^\+4420794\d\*{4}$/);
    expect(body.verification.risk).toMatchObject({
      outcome: "shadow_block",
      factors: [{ name: "ip_country_mismatch" }],
    });
    // It dials, rings and ends as a missed call would; the backend sees why.
    expect(body.verification.attempts[0]).toMatchObject({ status: "dialing", cost: null });
    const ended = await eventually(async () => {
      const v = (await t.app.inject({ url: `/v1/verifications/${body.id}`, headers: auth() })).json();
      return v.attempts[0].status === "dialing" || v.attempts[0].status === "ringing" ? undefined : v;
    }, 15_000);
    expect(ended.attempts[0]).toMatchObject({ status: "delivered", reason: "shadow_blocked", sip_code: 487 });
    expect(ended.attempts[0].ringing_at).not.toBeNull();
    const asClient = await t.app.inject({
      method: "GET",
      url: `/v1/verifications/${body.id}`,
      headers: auth(body.client_token),
    });
    expect(asClient.json().attempts[0]).toMatchObject({
      status: "delivered",
      reason: "ringing_canceled",
      sip_code: 487,
    });
    // No prices either: a total of 0 would give away what the attempt pretends.
    expect(asClient.json().cost).toBeNull();
    await missedCallFrom(t, "+447400130001");
    await sleep(200);
    expect(calls(t, "+447400130002")).toEqual([]);

    // The app's event stream, replayed from the start (an unknown Last-Event-ID), tells the same story.
    await t.app.listen({ port: 0, host: "127.0.0.70" });
    const { port } = t.app.server.address() as AddressInfo;
    const stream = await readSse(`http://127.0.0.70:${port}/v1/verifications/${body.id}/stream`, {
      ...auth(body.client_token),
      "last-event-id": "evt_unknown",
    });
    expect(stream.map((m) => m.event)).toEqual([
      "state",
      "verification.started",
      "attempt.dialing",
      "attempt.ringing",
      "attempt.delivered",
    ]);
    expect(stream.map((m) => m.data).join("\n")).not.toMatch(/shadow/);
    expect(JSON.parse(stream[0]?.data ?? "{}")).toMatchObject({ risk: null, attempts: [{ status: "delivered" }] });
    expect(stream.slice(1).map((m) => JSON.parse(m.data).data.risk)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    const listed = await t.app.inject({
      method: "GET",
      url: `/v1/verifications/${body.id}/events`,
      headers: auth(body.client_token),
    });
    expect(listed.json().data.map((e: { type: string }) => e.type)).toEqual(stream.slice(1).map((m) => m.event));
    expect(listed.body).not.toMatch(/shadow|risk/);

    for (const code of ["0000", "1234", "9999"]) {
      expect((await check(t, body.id, { code }, { headers: auth(body.client_token) })).json().status).not.toBe(
        "verified",
      );
    }
  });

  it("a client token's \"Use SMS instead\" answers the client's view, so it does not give a shadow block away", async () => {
    const t = await open({
      FRAUD_IP_COUNTRY_HEADER: "cf-ipcountry",
      FRAUD_RISK_BLOCK_SCORE: "0.3",
      FRAUD_RISK_BLOCK_ACTION: "shadow_block",
      WORKFLOW: "flashcall,sms",
    });
    const res = await start(t, { phone: "+447400130021" }, { headers: { ...auth(), ...header } });
    const body = res.json();
    expect(body.verification.risk).toMatchObject({ outcome: "shadow_block" });
    const next = await t.app.inject({
      method: "POST",
      url: `/v1/verifications/${body.id}/next`,
      headers: auth(body.client_token),
    });
    expect(next.statusCode, next.body).toBe(200);
    expect(next.body).not.toMatch(/shadow/);
    expect(next.json()).toMatchObject({ channel: "sms", risk: null, client: null, cost: null });
    expect(next.json().attempts.map((a: Body) => [a.channel, a.status, a.trunk, a.dialed_at])).toEqual([
      ["flashcall", expect.any(String), null, null],
      ["sms", "sent", null, null],
    ]);
    const read = await t.app.inject({ url: `/v1/verifications/${body.id}`, headers: auth(body.client_token) });
    expect(next.json()).toEqual(read.json());
    // The backend's key still gets the backend's view.
    const asBackend = await t.app.inject({ method: "POST", url: `/v1/verifications/${body.id}/next`, headers: auth() });
    expect(asBackend.json().risk).toMatchObject({ outcome: "shadow_block" });
  });

  it("a client token sees no trunk and no attempt times, so a real call and a shadow block read alike", async () => {
    const t = await open({
      FRAUD_IP_COUNTRY_HEADER: "cf-ipcountry",
      FRAUD_RISK_BLOCK_SCORE: "0.3",
      FRAUD_RISK_BLOCK_ACTION: "shadow_block",
    });
    const real = (await start(t, { phone: "+447400130011" })).json();
    const shadow = (await start(t, { phone: "+447400130012" }, { headers: { ...auth(), ...header } })).json();
    await missedCallFrom(t, "+447400130011");
    const backend = await eventually(async () => {
      const v = (await t.app.inject({ url: `/v1/verifications/${real.id}`, headers: auth() })).json();
      return v.attempts[0].status === "delivered" ? v : undefined;
    });
    expect(backend.attempts[0]).toMatchObject({ trunk: "sandbox" });
    expect(backend.attempts[0].post_dial_delay_ms).not.toBeNull();
    await eventually(async () => {
      const v = (await t.app.inject({ url: `/v1/verifications/${shadow.id}`, headers: auth() })).json();
      return v.attempts[0].reason === "shadow_blocked" ? v : undefined;
    }, 15_000);

    const asClient = async (v: { id: string; client_token: string }, path = "") =>
      t.app.inject({ url: `/v1/verifications/${v.id}${path}`, headers: auth(v.client_token) });
    const fields = ["status", "reason", "sip_code", "dialed_at", "ringing_at", "ended_at", "post_dial_delay_ms"];
    const shown = (view: { attempts: Record<string, unknown>[]; updated_at: string; created_at: string }) => ({
      attempts: view.attempts.map((a) => [...fields, "trunk", "cost", "detail", "sip_reason"].map((f) => a[f])),
      updatedAtCreation: view.updated_at === view.created_at,
    });
    const realView = (await asClient(real)).json();
    expect(shown(realView)).toEqual(shown((await asClient(shadow)).json()));
    expect(realView.attempts[0]).toMatchObject({ status: "delivered", dialed_at: null, post_dial_delay_ms: null });

    const realEvents = await asClient(real, "/events");
    expect(realEvents.body).not.toMatch(/trunk|sandbox/);
    const types = (res: { json(): { data: { type: string }[] } }) => res.json().data.map((e) => e.type);
    const shadowEvents = (await asClient(shadow, "/events")).json().data as { id: string; timestamp: string }[];
    expect(types(realEvents)).toEqual(shadowEvents.map((e) => (e as unknown as { type: string }).type));
    // Each of the shadow call's events is its own, at its own time, as a real call's are.
    expect(new Set(shadowEvents.map((e) => e.id)).size).toBe(shadowEvents.length);
    const times = shadowEvents.slice(1).map((e) => Date.parse(e.timestamp));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(new Set(times).size).toBe(times.length);
  });

  it("block answers 403 with the reasons", async () => {
    const t = await open({ FRAUD_IP_COUNTRY_HEADER: "cf-ipcountry", FRAUD_RISK_BLOCK_SCORE: "0.3" });
    const res = await start(t, { phone: "+447400140001" }, { headers: { ...auth(), ...header } });
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toMatchObject({
      code: "VERIFICATION_BLOCKED",
      details: { factors: ["ip_country_mismatch"], reasons: ["score 0.3 >= block threshold 0.3"] },
    });
  });
});

describe("the admin lists", () => {
  const post = (t: TestApp, path: string, payload: Body, key?: string) =>
    t.app.inject({ method: "POST", url: path, headers: auth(key), payload });

  it("block a number in any spelling until the block is deleted", async () => {
    const t = await open();
    const created = await post(t, "/v1/blocks", { type: "number", value: "0044 7400 150001", reason: "chargeback" });
    expect(created.statusCode).toBe(201);
    const entry = created.json();
    expect(entry).toMatchObject({ type: "number", value: "+447400150001", source: "admin", expires_at: null });
    const refused = await start(t, { phone: "+44 7400 150001" });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toMatchObject({ code: "DESTINATION_BLOCKED", details: { reason: "blocked_number" } });
    const list = await t.app.inject({ method: "GET", url: "/v1/blocks", headers: auth() });
    expect(list.json().data).toEqual([entry]);
    const del = () => t.app.inject({ method: "DELETE", url: `/v1/blocks/${entry.id}`, headers: auth() });
    expect((await del()).statusCode).toBe(204);
    expect((await del()).statusCode).toBe(404);
    expect((await start(t, { phone: "+447400150001" })).statusCode).toBe(201);
  });

  it("let a block expire, and keep applications apart", async () => {
    const clock = new MutableClock();
    const t = await open({}, clock);
    const entry = (
      await post(t, "/v1/blocks", { type: "prefix", value: "+4474001600", expires_in_seconds: 60 })
    ).json();
    expect((await start(t, { phone: "+447400160001" })).json().error.details).toMatchObject({
      reason: "blocked_prefix",
    });
    clock.t += 61_000;
    expect((await start(t, { phone: "+447400160001" })).statusCode).toBe(201);

    await t.services.store.ensureApplication({ id: "app_other", name: "other", createdAt: 0 });
    await t.services.apiKeys.register("app_other", "fv_other_key_0123456789abcdef", "test");
    const other = await t.app.inject({
      method: "DELETE",
      url: `/v1/blocks/${entry.id}`,
      headers: auth("fv_other_key_0123456789abcdef"),
    });
    expect(other.statusCode).toBe(404);
    const otherList = await t.app.inject({
      method: "GET",
      url: "/v1/blocks",
      headers: auth("fv_other_key_0123456789abcdef"),
    });
    expect(otherList.json().data).toEqual([]);
  });

  it("validate every entry with a schema and change nothing on error", async () => {
    const t = await open();
    const bad: [string, Body, string][] = [
      ["/v1/blocks", { type: "street", value: "+44" }, "INVALID_REQUEST"],
      ["/v1/blocks", { type: "prefix", value: "+44abc" }, "INVALID_REQUEST"],
      ["/v1/blocks", { type: "prefix", value: "+44", extra: 1 }, "INVALID_REQUEST"],
      ["/v1/blocks", { type: "country", value: "gb" }, "INVALID_REQUEST"],
      ["/v1/blocks", { type: "number", value: "+447700900123" }, "INVALID_PHONE_NUMBER"],
      ["/v1/blocks", { type: "number", value: "+447400170001", expires_in_seconds: 0 }, "INVALID_REQUEST"],
      ["/v1/allowlist", { type: "country", value: "GB" }, "INVALID_REQUEST"],
    ];
    for (const [path, payload, code] of bad) {
      const res = await post(t, path, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.code).toBe(code);
    }
    for (const path of ["/v1/blocks", "/v1/allowlist"]) {
      expect((await t.app.inject({ method: "GET", url: path, headers: auth() })).json().data).toEqual([]);
    }
    expect((await t.app.inject({ method: "GET", url: "/v1/blocks" })).statusCode).toBe(401);
  });
});

describe("limiter backends", () => {
  it("fail closed for starts (nothing is sent) and checks (nothing counted, nothing accepted) when the limiter cannot answer", async () => {
    let broken = false;
    const limiterBackend = (options: { keyPrefix: string; points: number; duration: number }) => {
      const limiter = new RateLimiterMemory(options);
      const consume = limiter.consume.bind(limiter);
      const get = limiter.get.bind(limiter);
      limiter.consume = (key, points) => (broken ? Promise.reject(new Error("limiter down")) : consume(key, points));
      limiter.get = (key) => (broken ? Promise.reject(new Error("limiter down")) : get(key));
      return limiter;
    };
    const t = await open({}, undefined, { limiterBackend, onBackgroundError: () => {} });
    const s = (await start(t, { phone: "+447400180001" })).json();
    const cli = await missedCallFrom(t, "+447400180001");
    broken = true;
    const refused = await start(t, { phone: "+447400180002" });
    expect(refused.statusCode).toBe(503);
    expect(refused.json().error.code).toBe("FRAUD_CHECK_UNAVAILABLE");
    expect(refused.headers["retry-after"]).toBe("1");
    const unanswered = await check(t, s.id, { caller_id: cli });
    expect(unanswered.statusCode).toBe(503);
    expect(unanswered.json().error.code).toBe("FRAUD_CHECK_UNAVAILABLE");
    broken = false;
    expect((await check(t, s.id, { caller_id: cli })).json()).toMatchObject({
      status: "verified",
      attempts_remaining: 0,
    });
    await sleep(100);
    expect(calls(t, "+447400180002")).toEqual([]);
  });

  it("FRAUD_LIMITER=sqlite keeps the counters in the database file across a restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fv-fraud-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const env = { ...DEFAULT_FRAUD_SETTINGS, FRAUD_LIMITER: "sqlite", DATABASE_URL: `sqlite:${join(dir, "fv.db")}` };
    const first = await createTestApp(env);
    for (let i = 0; i < 5; i++) expect((await start(first, { phone: "+447400190001" })).statusCode).toBe(201);
    await first.close();
    const second = await open(env);
    expect((await start(second, { phone: "+447400190001" })).json().error.details).toMatchObject({
      limit: "destination",
    });
  });
});
