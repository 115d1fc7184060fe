/**
 * GET /metrics: Prometheus text, with what the verifications, attempts and HTTP requests did, and what the database
 * holds (live verifications, pool leases, outbox and timer lag), after real traffic through the real stack.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "./support/scripted-channel.js";
import { auth, createTestApp, eventually, type TestApp } from "./support/test-app.js";
import { WebhookReceiver } from "./support/webhook-receiver.js";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const start = (phone: string) =>
  t.app.inject({ method: "POST", url: "/v1/verifications", headers: auth(), payload: { phone } });

it("counts verifications, attempts, SIP finals and requests from what was committed", async () => {
  const ok = (await start("+447400200001")).json();
  const cli = await eventually(() => {
    const call = t.services.sandbox?.handsets.calls("+447400200001")[0];
    return call?.result === "missed" ? call.from : undefined;
  });
  const checked = await t.app.inject({
    method: "POST",
    url: `/v1/verifications/${ok.id}/check`,
    headers: auth(),
    payload: { caller_id: cli },
  });
  expect(checked.json().status).toBe("verified");
  const busy = (await start("+447400200486")).json();
  await eventually(async () => {
    const v = await t.app.inject({ method: "GET", url: `/v1/verifications/${busy.id}`, headers: auth() });
    return v.json().status === "failed" ? true : undefined;
  });

  const res = await t.app.inject({ method: "GET", url: "/metrics" });
  expect(res.statusCode).toBe(200);
  expect(res.headers["content-type"]).toContain("text/plain");
  const text = res.body;
  for (const line of [
    'flashverify_verifications_started_total{channel="flashcall"} 2',
    'flashverify_verifications_ended_total{status="verified",channel="flashcall",reason=""} 1',
    'flashverify_verifications_ended_total{status="failed",channel="flashcall",reason="attempt_failed"} 1',
    'flashverify_attempts_ended_total{channel="flashcall",outcome="failed",reason="busy"} 1',
    'flashverify_attempts_ended_total{channel="flashcall",outcome="delivered",reason="ringing_canceled"} 1',
    'flashverify_sip_final_responses_total{code="486"} 1',
    'flashverify_sip_final_responses_total{code="487"} 1',
    'flashverify_http_requests_total{method="POST",route="/v1/verifications",status="201"} 2',
  ]) {
    expect(text).toContain(line);
  }
  expect(text).toMatch(/^flashverify_process_resident_memory_bytes \d+/m);
  // Paths are counted by their pattern: no series per verification id.
  expect(text).toContain('route="/v1/verifications/:id/check"');
  expect(text).not.toContain(ok.id);
});

/** One sample's value from the Prometheus text; undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("what the database holds", () => {
  let d: TestApp;
  let receiver: WebhookReceiver;
  const clock = new FakeClock(Date.now());
  beforeAll(async () => {
    d = await createTestApp({ WEBHOOK_ALLOW_PRIVATE: "loopback" }, clock);
    receiver = await WebhookReceiver.start("127.0.3.2");
  });
  afterAll(async () => {
    await d.close();
    await receiver.close();
  });
  const scrape = async () => (await d.app.inject({ method: "GET", url: "/metrics" })).body;

  it("reports live verifications, pool leases, and the outbox's and timers' lag, and their recovery", async () => {
    const idle = await scrape();
    expect(sample(idle, "flashverify_verifications_live")).toBe(0);
    expect(sample(idle, 'flashverify_pool_size{pool="pool_default"}')).toBe(100_000);
    expect(sample(idle, 'flashverify_pool_leased{pool="pool_default"}')).toBe(0);
    expect(sample(idle, "flashverify_outbox_lag_seconds")).toBe(0);
    expect(sample(idle, "flashverify_timer_lag_seconds")).toBe(0);
    // SQLite has no connection pool: no figures rather than made-up ones.
    expect(idle).not.toMatch(/^flashverify_db_pool_connections\{/m);

    const endpoint = await d.app.inject({
      method: "POST",
      url: "/v1/webhook-endpoints",
      headers: auth(),
      payload: { url: receiver.url, event_types: ["verification.started"] },
    });
    expect(endpoint.statusCode).toBe(201);
    const phones = ["+447400200101", "+447400200102", "+447400200103"];
    for (const phone of phones) {
      const res = await d.app.inject({ method: "POST", url: "/v1/verifications", headers: auth(), payload: { phone } });
      expect(res.statusCode).toBe(201);
    }
    // The calls end (they ring, then we cancel) before the clock moves: the timers then hold only the expiries.
    for (const phone of phones) {
      await eventually(() => (d.services.sandbox?.handsets.calls(phone)[0]?.result === "missed" ? true : undefined));
    }
    await eventually(async () => (sample(await scrape(), "flashverify_verifications_live") === 3 ? true : undefined));

    clock.advance(5_000);
    const busy = await scrape();
    expect(sample(busy, 'flashverify_pool_leased{pool="pool_default"}')).toBe(3);
    expect(sample(busy, 'flashverify_pool_utilization_ratio{pool="pool_default"}')).toBeCloseTo(3 / 100_000, 10);
    // Nobody delivered the three `verification.started` webhooks: the oldest has waited the 5 s the clock moved.
    expect(sample(busy, "flashverify_outbox_pending")).toBe(3);
    expect(sample(busy, "flashverify_outbox_lag_seconds")).toBe(5);
    expect(sample(busy, "flashverify_timer_lag_seconds")).toBe(0);

    // No timer worker runs here. The first timers are the calls' deadlines (a crash would have left them in flight),
    // due about 26 s after the start, which fire early and harmlessly: claimed, they move on to the expiry.
    clock.advance(25_000);
    expect(sample(await scrape(), "flashverify_timer_lag_seconds")).toBeGreaterThan(0);
    expect(await d.services.verifications.advanceDue()).toBe(3);
    expect(sample(await scrape(), "flashverify_timer_lag_seconds")).toBe(0);
    // Past the 60 s TTL, the expiries are due and wait, 10 s late.
    clock.advance(40_000);
    const late = await scrape();
    expect(sample(late, "flashverify_verifications_live")).toBe(0);
    expect(sample(late, "flashverify_timer_lag_seconds")).toBe(10);

    expect(await d.services.verifications.advanceDue()).toBe(3);
    expect(await d.services.webhooks.runOnce()).toBe(3);
    expect(receiver.received).toHaveLength(3);
    const settled = await scrape();
    expect(sample(settled, "flashverify_timer_lag_seconds")).toBe(0);
    expect(sample(settled, "flashverify_outbox_pending")).toBe(0);
    expect(sample(settled, "flashverify_outbox_lag_seconds")).toBe(0);
    // Expired verifications give their caller IDs back.
    expect(sample(settled, 'flashverify_pool_leased{pool="pool_default"}')).toBe(0);
    expect(settled).toContain(
      'flashverify_verifications_ended_total{status="expired",channel="flashcall",reason="ttl"} 3',
    );
  });
});
