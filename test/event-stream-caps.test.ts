/**
 * Event streams of one application cost another nothing, and streams are capped. 2,000 open
 * /v1/events/stream connections of application B: application A's starts still answer 201 with overload shedding
 * at its production threshold, and none of B's streams reads the log for A's commits (before, every commit woke
 * every stream of every application, and each read the database). Past a cap (process, application,
 * verification) a stream gets `429 TOO_MANY_STREAMS` naming it, and the refusal is counted in /metrics.
 */
import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auth, createTestApp, eventually, type TestApp } from "./support/test-app.js";

const ADDRESS = "127.0.0.109";
const B_STREAMS = 2000;

/** Opens an SSE stream and resolves with its status once the headers are in; `close()` hangs up. */
function openStream(base: string, path: string, token: string) {
  return new Promise<{ status: number; body: string; close: () => void }>((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { headers: auth(token), agent: false }, (res) => {
      const status = res.statusCode ?? 0;
      const close = () => req.destroy();
      if (status === 200) return resolve({ status, body: "", close });
      let body = "";
      res.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on("end", () => resolve({ status, body, close }));
    });
    req.on("error", reject);
    req.end();
  });
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

async function createApplication(t: TestApp, name: string): Promise<string> {
  const res = await t.app.inject({ method: "POST", url: "/v1/applications", headers: auth(), payload: { name } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().api_key.key as string;
}

describe("2,000 event streams of one application beside another's starts", () => {
  let t: TestApp;
  let base: string;
  const streams: { close: () => void }[] = [];
  beforeAll(async () => {
    t = await createTestApp({
      SANDBOX_SIP_ADDRESS: ADDRESS,
      SSE_HEARTBEAT_MS: "60000",
      SSE_MAX_STREAMS: "5000",
      SSE_MAX_STREAMS_PER_APPLICATION: String(B_STREAMS),
      // Shedding on, at the production default: a lagging event loop would answer A's starts 503 OVERLOADED.
      OVERLOAD_MAX_LAG_MS: "250",
    });
    await t.app.listen({ port: 0, host: ADDRESS });
    base = `http://${ADDRESS}:${(t.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await t?.close();
  });

  it("leaves A's starts at 201, and B's streams read nothing for A's commits", async () => {
    const keyB = await createApplication(t, "b");
    const startA = async (i: number) => {
      const began = performance.now();
      const res = await fetch(`${base}/v1/verifications`, {
        method: "POST",
        headers: { ...auth(), "content-type": "application/json" },
        body: JSON.stringify({ phone: `+4474001${String(20000 + i).padStart(5, "0")}` }),
      });
      await res.arrayBuffer();
      return { status: res.status, ms: performance.now() - began };
    };
    for (let i = 0; i < 10; i++) await startA(50 + i); // warm-up: the first requests compile the hot paths
    const before = [];
    for (let i = 0; i < 20; i++) before.push(await startA(i));

    for (let opened = 0; opened < B_STREAMS; opened += 200) {
      const batch = await Promise.all(Array.from({ length: 200 }, () => openStream(base, "/v1/events/stream", keyB)));
      streams.push(...batch);
      expect(batch.map((s) => s.status)).toEqual(Array(200).fill(200));
    }
    expect(t.services.streamCaps.openStreams).toBe(B_STREAMS);
    // The opening itself is work: A's starts begin once the event loop is quiet again.
    await eventually(() => (t.services.lag.lagMs < 50 ? true : undefined), 10_000);

    // Count how often any stream reads the application log while A starts (A has no stream open).
    const log = t.services.eventLog;
    const original = log.applicationAfter.bind(log);
    let reads = 0;
    log.applicationAfter = (...args: Parameters<typeof log.applicationAfter>) => {
      reads++;
      return original(...args);
    };
    const during = [];
    try {
      for (let i = 0; i < 20; i++) during.push(await startA(100 + i));
      await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      log.applicationAfter = original;
    }

    expect(during.map((r) => r.status)).toEqual(Array(20).fill(201));
    expect(reads).toBe(0);
    const p = (rows: { ms: number }[], q: number) =>
      percentile(
        rows.map((r) => r.ms),
        q,
      ).toFixed(1);
    console.log(
      `A's 20 starts, sequential: without B's streams p50 ${p(before, 50)} ms p99 ${p(before, 99)} ms; ` +
        `with ${B_STREAMS} of B's streams open p50 ${p(during, 50)} ms p99 ${p(during, 99)} ms; ` +
        `log reads by B's streams during A's starts: ${reads}; RSS ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB`,
    );

    // B's own commit still reaches every one of B's streams.
    const started = await t.app.inject({
      method: "POST",
      url: "/v1/verifications",
      headers: auth(keyB),
      payload: { phone: "+447400129999" },
    });
    expect(started.statusCode).toBe(201);
  }, 120_000);
});

describe("stream caps", () => {
  let t: TestApp;
  let base: string;
  const open: { close: () => void }[] = [];
  beforeAll(async () => {
    t = await createTestApp({
      SANDBOX_SIP_ADDRESS: ADDRESS,
      SSE_HEARTBEAT_MS: "60000",
      SSE_MAX_STREAMS: "6",
      SSE_MAX_STREAMS_PER_APPLICATION: "4",
      SSE_MAX_STREAMS_PER_VERIFICATION: "2",
    });
    await t.app.listen({ port: 0, host: ADDRESS });
    base = `http://${ADDRESS}:${(t.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const s of open) s.close();
    await t?.close();
  });

  async function refused(path: string, token?: string) {
    const res = await openStream(base, path, token ?? "fv_test_key_0123456789abcdef");
    expect(res.status).toBe(429);
    return JSON.parse(res.body).error as { code: string; details: { limit: string } };
  }

  it("refuses past the per-verification, per-application and per-process caps with 429 TOO_MANY_STREAMS", async () => {
    const start = await t.app.inject({
      method: "POST",
      url: "/v1/verifications",
      headers: auth(),
      payload: { phone: "+447400128888" },
    });
    const { id, client_token: clientToken } = start.json() as { id: string; client_token: string };
    const path = `/v1/verifications/${id}/stream`;

    // Two per verification, whoever holds them (the backend's key or the app's client token).
    open.push(await openStream(base, path, "fv_test_key_0123456789abcdef"));
    open.push(await openStream(base, path, clientToken));
    expect(await refused(path, clientToken)).toMatchObject({
      code: "TOO_MANY_STREAMS",
      details: { limit: "verification" },
    });

    // Four per application: its event stream counts with its verifications' streams.
    open.push(await openStream(base, "/v1/events/stream", "fv_test_key_0123456789abcdef"));
    open.push(await openStream(base, "/v1/events/stream", "fv_test_key_0123456789abcdef"));
    expect(await refused("/v1/events/stream")).toMatchObject({ details: { limit: "application" } });

    // Six per process: another application gets the two places left, then no more.
    const keyC = await createApplication(t, "c");
    open.push(await openStream(base, "/v1/events/stream", keyC));
    open.push(await openStream(base, "/v1/events/stream", keyC));
    expect(await refused("/v1/events/stream", keyC)).toMatchObject({ details: { limit: "process" } });
    expect(open.every((s) => s !== undefined)).toBe(true);

    const metrics = await t.app.inject({ method: "GET", url: "/metrics" });
    expect(metrics.body).toMatch(/flashverify_sse_streams_refused_total\{limit="verification"\} 1/);
    expect(metrics.body).toMatch(/flashverify_sse_streams_refused_total\{limit="application"\} 1/);
    expect(metrics.body).toMatch(/flashverify_sse_streams_refused_total\{limit="process"\} 1/);
    expect(metrics.body).toMatch(/flashverify_sse_streams_open 6/);

    // A stream that ends gives its place back.
    open.pop()?.close();
    await eventually(() => (t.services.streamCaps.openStreams === 5 ? true : undefined));
    const again = await openStream(base, "/v1/events/stream", keyC);
    expect(again.status).toBe(200);
    open.push(again);
  });
});
