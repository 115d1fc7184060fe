/**
 * Webhooks on the real stack: endpoints managed through the API, deliveries written with the events, sent over
 * real HTTP to a loopback receiver that checks every signature. The worker runs by hand on a fake clock, so the
 * retry schedule is exact (jitter pinned) and nothing waits for hours.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RETRY_DELAYS_MS } from "../src/events/retry-schedule.js";
import { WebhookWorker } from "../src/events/webhook-worker.js";
import { FakeClock } from "./support/scripted-channel.js";
import { auth, createTestApp, eventually, type TestApp } from "./support/test-app.js";
import { WebhookReceiver } from "./support/webhook-receiver.js";

let t: TestApp;
let receiver: WebhookReceiver;
const clock = new FakeClock(Date.now());
let phoneSeq = 400_100;

beforeAll(async () => {
  t = await createTestApp({ WEBHOOK_ALLOW_PRIVATE: "loopback" }, clock);
  receiver = await WebhookReceiver.start();
  receiver.nowSeconds = () => Math.floor(clock.now() / 1000);
});
afterAll(async () => {
  await receiver.close();
  await t.close();
});
afterEach(async () => {
  receiver.received.length = 0;
  receiver.answers.length = 0;
  receiver.fallback = { status: 200 };
  for (const e of (await api("GET", "/v1/webhook-endpoints")).json().data) {
    await api("DELETE", `/v1/webhook-endpoints/${e.id}`);
  }
});

function api(method: "GET" | "POST" | "PATCH" | "DELETE", url: string, payload?: Record<string, unknown>) {
  if (payload === undefined) return t.app.inject({ method, url, headers: auth() });
  return t.app.inject({ method, url, headers: auth(), payload });
}

/** A worker over the app's store with the jitter pinned to the middle: delays are exactly the schedule's. */
function worker(allowed: ReadonlySet<"loopback"> = new Set(["loopback"])) {
  return new WebhookWorker({ store: t.services.store.webhooks, clock, allowed, timeoutMs: 2000, random: () => 0.5 });
}

async function endpoint(body: Record<string, unknown> = {}) {
  const res = await api("POST", "/v1/webhook-endpoints", { url: receiver.url, ...body });
  expect(res.statusCode).toBe(201);
  const created = res.json();
  receiver.secrets = [created.secret];
  return created as { id: string; secret: string };
}

/** Starts a verification and waits until its call has ended, so that every attempt event is written. */
async function verification(): Promise<string> {
  const phone = `+447400${phoneSeq++}`;
  const id = (await api("POST", "/v1/verifications", { phone })).json().id as string;
  await eventually(async () => (await api("GET", `/v1/verifications/${id}`)).json().attempts[0]?.ended_at ?? undefined);
  // SIP outcomes carry real timestamps: bring the fake clock past them so their deliveries are due.
  clock.current = Math.max(clock.current, Date.now()) + 1;
  return id;
}

async function deliveries(endpointId: string) {
  return (await api("GET", `/v1/webhook-endpoints/${endpointId}/deliveries`)).json().data as {
    id: string;
    status: string;
    attempts: number;
    next_attempt_at: string | null;
    last_status_code: number | null;
    last_error: string | null;
  }[];
}

describe("webhook delivery", () => {
  it("delivers every event of a verification in order, signed, with the same payload as the event log", async () => {
    const e = await endpoint();
    const id = await verification();
    await worker().runOnce();
    const log = (await api("GET", `/v1/verifications/${id}/events`)).json().data;
    expect(log.map((x: { type: string }) => x.type)).toEqual([
      "verification.started",
      "attempt.dialing",
      "attempt.ringing",
      "attempt.delivered",
    ]);
    expect(receiver.received.map((r) => r.json)).toEqual(log);
    expect(receiver.received.every((r) => r.verified === true)).toBe(true);
    expect(receiver.received.map((r) => r.headers["webhook-id"])).toEqual(log.map((x: { id: string }) => x.id));
    expect(log[1].data).toMatchObject({ verification_id: id, seq: 1, pattern: expect.stringMatching(/\*{4}$/) });
    expect(JSON.stringify(log)).not.toMatch(/\+4420794\d{5}/);
    expect((await deliveries(e.id)).every((d) => d.status === "delivered" && d.attempts === 1)).toBe(true);
    expect(await worker().runOnce()).toBe(0);
  });

  it("sends only the types an endpoint asked for, and nothing to a disabled one", async () => {
    await endpoint({ event_types: ["attempt.delivered"] });
    const off = await endpoint({ enabled: false });
    await verification();
    await worker().runOnce();
    expect(receiver.received.map((r) => r.json.type)).toEqual(["attempt.delivered"]);
    expect(await deliveries(off.id)).toEqual([]);
  });

  it("retries on the schedule 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h, then gives up", async () => {
    const e = await endpoint({ event_types: ["verification.started"] });
    receiver.fallback = { status: 500 };
    await verification();
    const w = worker();
    expect(await w.runOnce()).toBe(1);
    for (const delay of RETRY_DELAYS_MS) {
      const [d] = await deliveries(e.id);
      expect(new Date(d?.next_attempt_at as string).getTime()).toBe(clock.now() + delay);
      clock.advance(delay - 1);
      expect(await w.runOnce()).toBe(0);
      clock.advance(1);
      expect(await w.runOnce()).toBe(1);
    }
    const [last] = await deliveries(e.id);
    expect(last).toMatchObject({ status: "failed", attempts: 10, next_attempt_at: null, last_status_code: 500 });
    expect(last?.last_error).toMatch(/gave up/);
    clock.advance(48 * 3600_000);
    expect(await w.runOnce()).toBe(0);
    expect(receiver.received).toHaveLength(10);
    // every attempt is in the log, and a replay sends it once more with the same webhook-id
    const detail = (await api("GET", `/v1/webhook-endpoints/${e.id}/deliveries/${last?.id}`)).json();
    expect(detail.attempt_log).toHaveLength(10);
    expect(detail.attempt_log[0]).toMatchObject({ status_code: 500, error: "HTTP 500" });
    receiver.fallback = { status: 204 };
    const replay = await api("POST", `/v1/webhook-endpoints/${e.id}/deliveries/${last?.id}/replay`);
    expect(replay.statusCode).toBe(202);
    expect(await w.runOnce()).toBe(1);
    expect((await deliveries(e.id))[0]).toMatchObject({ status: "delivered", attempts: 1 });
    expect(new Set(receiver.received.map((r) => r.headers["webhook-id"])).size).toBe(1);
  });

  it("holds a verification's later events behind a failing one, so they arrive in order", async () => {
    await endpoint();
    receiver.answers.push({ status: 500 });
    const id = await verification();
    const w = worker();
    expect(await w.runOnce()).toBe(1);
    expect(await w.runOnce()).toBe(0);
    clock.advance(RETRY_DELAYS_MS[0] as number);
    expect(await w.runOnce()).toBe(4);
    const types = receiver.received.map((r) => r.json.type);
    expect(types).toEqual([
      "verification.started",
      "verification.started",
      "attempt.dialing",
      "attempt.ringing",
      "attempt.delivered",
    ]);
    expect(receiver.received.every((r) => r.json.data.verification_id === id)).toBe(true);
  });

  it("renews a claim while its delivery is in flight, so another worker does not send it again", async () => {
    const e = await endpoint({ event_types: ["verification.started"] });
    await verification();
    // Real time from the fake clock's now on: leases of 300 ms lapse unless renewed, and the receiver answers the
    // first request after 1.2 s, four leases later.
    const from = clock.now();
    const startedAt = Date.now();
    const options = {
      store: t.services.store.webhooks,
      clock: { now: () => from + (Date.now() - startedAt) },
      allowed: new Set(["loopback"] as const),
      timeoutMs: 5000,
      leaseMs: 300,
      pollMs: 20,
    };
    receiver.answers.push({ status: 200, delayMs: 1200 });
    const sending = new WebhookWorker(options);
    const other = new WebhookWorker(options);
    sending.start();
    await eventually(() => (receiver.received.length === 1 ? true : undefined));
    other.start();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await Promise.all([sending.stop(), other.stop()]);
    expect(receiver.received.map((r) => r.json.type)).toEqual(["verification.started"]);
    expect(await deliveries(e.id)).toMatchObject([{ status: "delivered", attempts: 1, last_status_code: 200 }]);
  });

  it("disables an endpoint that answers 410 Gone", async () => {
    const e = await endpoint({ event_types: ["verification.started"] });
    receiver.fallback = { status: 410 };
    await verification();
    expect(await worker().runOnce()).toBe(1);
    expect((await api("GET", `/v1/webhook-endpoints/${e.id}`)).json()).toMatchObject({
      enabled: false,
      disabled_reason: "gone",
    });
    expect((await deliveries(e.id))[0]).toMatchObject({ status: "failed", last_status_code: 410 });
    await verification();
    expect(await deliveries(e.id)).toHaveLength(1);
    // re-enabled by its owner, it receives new events again
    await api("PATCH", `/v1/webhook-endpoints/${e.id}`, { enabled: true });
    receiver.fallback = { status: 200 };
    await verification();
    expect(await worker().runOnce()).toBe(1);
  });

  it("honours Retry-After on 429 (seconds) and 503 (an HTTP date)", async () => {
    const e = await endpoint({ event_types: ["verification.started"] });
    receiver.answers.push({ status: 429, headers: { "retry-after": "120" } });
    await verification();
    const w = worker();
    await w.runOnce();
    let [d] = await deliveries(e.id);
    expect(new Date(d?.next_attempt_at as string).getTime()).toBe(clock.now() + 120_000);

    clock.advance(120_000);
    const later = new Date(Math.ceil((clock.now() + 3 * 3600_000) / 1000) * 1000);
    receiver.answers.push({ status: 503, headers: { "retry-after": later.toUTCString() } });
    await w.runOnce();
    [d] = await deliveries(e.id);
    expect(new Date(d?.next_attempt_at as string).getTime()).toBe(later.getTime());
    clock.current = later.getTime();
    await w.runOnce();
    [d] = await deliveries(e.id);
    expect(d).toMatchObject({ status: "delivered", attempts: 3 });
  });

  it("does not follow redirects", async () => {
    const e = await endpoint({ event_types: ["verification.started"] });
    receiver.answers.push({ status: 302, headers: { location: "http://169.254.169.254/" } });
    await verification();
    await worker().runOnce();
    expect(receiver.received).toHaveLength(1);
    expect((await deliveries(e.id))[0]).toMatchObject({ status: "pending", last_error: "redirect refused" });
  });

  it("signs with both secrets during a rotation's overlap, then with the new one only", async () => {
    const e = await endpoint({ event_types: ["verification.started"] });
    const rotated = (await api("POST", `/v1/webhook-endpoints/${e.id}/rotate-secret`, { overlap_seconds: 60 })).json();
    expect(rotated.secret).not.toBe(e.secret);
    receiver.secrets = [e.secret];
    await verification();
    await worker().runOnce();
    const [during] = receiver.received;
    expect(during?.headers["webhook-signature"]?.toString().split(" ")).toHaveLength(2);
    expect(during?.verified).toBe(true);
    receiver.secrets = [rotated.secret];
    clock.advance(61_000);
    await verification();
    await worker().runOnce();
    const after = receiver.received[1];
    expect(after?.headers["webhook-signature"]?.toString().split(" ")).toHaveLength(1);
    expect(after?.verified).toBe(true);
  });
});

describe("the SSRF guard on delivery", () => {
  it("refuses a loopback receiver unless the operator allows loopback, and records why", async () => {
    const e = await endpoint({ event_types: ["verification.started"] });
    await verification();
    expect(await worker(new Set()).runOnce()).toBe(1);
    expect(receiver.received).toEqual([]);
    const [d] = await deliveries(e.id);
    expect(d).toMatchObject({ status: "pending", last_status_code: null });
    expect(d?.last_error).toMatch(/refused: 127\.0\.0\.60 resolves to 127\.0\.0\.60 \(loopback\)/);
  });

  it("refuses, at creation, an endpoint on an address class that is not allowed", async () => {
    const strict = await createTestApp({ SANDBOX_SIP_ADDRESS: "127.0.0.61" });
    try {
      for (const url of ["http://127.0.0.1:9/x", "http://169.254.169.254/", "http://[::ffff:10.0.0.1]/", "ftp://x"]) {
        const res = await strict.app.inject({
          method: "POST",
          url: "/v1/webhook-endpoints",
          headers: auth(),
          payload: { url },
        });
        expect(res.json().error.code).toBe("URL_NOT_ALLOWED");
      }
      const named = await strict.app.inject({
        method: "POST",
        url: "/v1/webhook-endpoints",
        headers: auth(),
        payload: { url: "http://localhost:9/x" },
      });
      expect(named.statusCode).toBe(201);
    } finally {
      await strict.close();
    }
  });
});

describe("endpoint management", () => {
  it("validates, scopes to the application and never shows the secret after creation", async () => {
    expect((await api("POST", "/v1/webhook-endpoints", { url: receiver.url, event_types: ["nope"] })).statusCode).toBe(
      400,
    );
    const e = await endpoint({ description: "crm" });
    const listed = (await api("GET", "/v1/webhook-endpoints")).json().data;
    expect(listed).toEqual([expect.objectContaining({ id: e.id, description: "crm", event_types: null })]);
    expect(JSON.stringify(listed)).not.toContain(e.secret);
    expect((await api("GET", "/v1/webhook-endpoints/whe_missing")).json().error.code).toBe(
      "WEBHOOK_ENDPOINT_NOT_FOUND",
    );
    const unauthenticated = await t.app.inject({ method: "GET", url: "/v1/webhook-endpoints" });
    expect(unauthenticated.statusCode).toBe(401);
    const patched = await api("PATCH", `/v1/webhook-endpoints/${e.id}`, { event_types: ["verification.verified"] });
    expect(patched.json().event_types).toEqual(["verification.verified"]);
    expect((await api("DELETE", `/v1/webhook-endpoints/${e.id}`)).statusCode).toBe(204);
    expect((await api("DELETE", `/v1/webhook-endpoints/${e.id}`)).statusCode).toBe(404);
  });
});
