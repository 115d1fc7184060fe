/**
 * The event log over HTTP: paging through /v1/events, a verification's events, and the SSE stream (current state
 * first, events as they commit, close after the final one, Last-Event-ID resume from the durable log).
 */
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auth, createTestApp, eventually, type TestApp } from "./support/test-app.js";

let t: TestApp;
let base: string;
beforeAll(async () => {
  t = await createTestApp({ SSE_HEARTBEAT_MS: "100" });
  await t.app.listen({ port: 0, host: "127.0.0.62" });
  base = `http://127.0.0.62:${(t.app.server.address() as AddressInfo).port}`;
});
afterAll(() => t.close());

interface SseMessage {
  id?: string;
  event?: string;
  data?: string;
}

/** Reads a whole SSE response until the server closes it; also counts heartbeat comments. */
async function readStream(
  url: string,
  headers: Record<string, string>,
  onMessage?: (m: SseMessage) => void | Promise<void>,
): Promise<{ status: number; messages: SseMessage[]; heartbeats: number; contentType: string | null }> {
  const res = await fetch(url, { headers });
  const messages: SseMessage[] = [];
  let heartbeats = 0;
  if (!res.body) return { status: res.status, messages, heartbeats, contentType: res.headers.get("content-type") };
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (block.startsWith(":")) heartbeats++;
      else {
        const m: SseMessage = {};
        for (const line of block.split("\n")) {
          const [field, ...rest] = line.split(": ");
          if (field === "id" || field === "event" || field === "data") m[field] = rest.join(": ");
        }
        if (m.event) {
          messages.push(m);
          await onMessage?.(m);
        }
      }
      end = buffer.indexOf("\n\n");
    }
  }
  return { status: res.status, messages, heartbeats, contentType: res.headers.get("content-type") };
}

async function start(phone: string) {
  const res = await t.app.inject({ method: "POST", url: "/v1/verifications", headers: auth(), payload: { phone } });
  return res.json() as { id: string; client_token: string };
}

async function callerId(phone: string): Promise<string> {
  return eventually(async () => {
    const res = await t.app.inject({ url: `/sandbox/phones/${phone}` });
    return res.json().calls[0]?.from as string | undefined;
  });
}

describe("SSE", () => {
  it("sends the state, then the events live, then closes after the final one; Last-Event-ID resumes", async () => {
    const phone = "+447400600001";
    const v = await start(phone);
    const from = await callerId(phone);
    // Wait for the call to have ended, so that the stream's live part is exactly the verification's end.
    await eventually(async () => {
      const res = await t.app.inject({ url: `/v1/verifications/${v.id}`, headers: auth() });
      return res.json().attempts[0].status === "delivered" ? true : undefined;
    });

    const live = await readStream(`${base}/v1/verifications/${v.id}/stream`, auth(v.client_token), async (m) => {
      if (m.event === "state") {
        await t.app.inject({
          method: "POST",
          url: `/v1/verifications/${v.id}/check`,
          headers: auth(),
          payload: { caller_id: from },
        });
      }
    });
    expect(live.status).toBe(200);
    expect(live.contentType).toMatch(/^text\/event-stream/);
    expect(live.messages.map((m) => m.event)).toEqual(["state", "verification.verified"]);
    const state = JSON.parse(live.messages[0]?.data ?? "{}");
    expect(state).toMatchObject({ id: v.id, status: "pending", reference: null, verified_caller_id: null });
    const verified = JSON.parse(live.messages[1]?.data ?? "{}");
    expect(verified).toMatchObject({ id: live.messages[1]?.id, type: "verification.verified" });
    expect(verified.data).toEqual({ verification_id: v.id, attempt_id: null, channel: "flashcall", caller_id: from });

    const log = (await t.app.inject({ url: `/v1/verifications/${v.id}/events`, headers: auth() })).json().data;
    expect(log.map((e: { type: string }) => e.type)).toEqual([
      "verification.started",
      "attempt.dialing",
      "attempt.ringing",
      "attempt.delivered",
      "verification.verified",
    ]);
    // a client that saw only the first event reconnects: everything after it comes from the log, then it closes
    const resumed = await readStream(`${base}/v1/verifications/${v.id}/stream`, {
      ...auth(),
      "last-event-id": log[0].id,
    });
    expect(resumed.messages.map((m) => m.event)).toEqual([
      "state",
      ...log.slice(1).map((e: { type: string }) => e.type),
    ]);
    expect(resumed.messages.slice(1).map((m) => m.id)).toEqual(log.slice(1).map((e: { id: string }) => e.id));
    expect(resumed.messages.slice(1).map((m) => JSON.parse(m.data ?? ""))).toEqual(log.slice(1));
    // after the end, a plain connection gets the final state and closes at once
    const after = await readStream(`${base}/v1/verifications/${v.id}/stream`, auth());
    expect(after.messages.map((m) => m.event)).toEqual(["state"]);
  });

  it("keeps an idle stream alive with heartbeats and ends it when the verification is canceled", async () => {
    const v = await start("+447400600002");
    const stream = readStream(`${base}/v1/verifications/${v.id}/stream`, auth());
    await new Promise((resolve) => setTimeout(resolve, 350));
    await t.app.inject({ method: "POST", url: `/v1/verifications/${v.id}/cancel`, headers: auth() });
    const done = await stream;
    expect(done.heartbeats).toBeGreaterThanOrEqual(1);
    expect(done.messages.at(-1)?.event).toBe("verification.canceled");
  });

  it("refuses another verification's client token and unknown verifications", async () => {
    const a = await start("+447400600003");
    const b = await start("+447400600004");
    expect((await fetch(`${base}/v1/verifications/${a.id}/stream`, { headers: auth(b.client_token) })).status).toBe(
      401,
    );
    expect((await fetch(`${base}/v1/verifications/ver_missing/stream`, { headers: auth() })).status).toBe(404);
    for (const id of [a.id, b.id])
      await t.app.inject({ method: "POST", url: `/v1/verifications/${id}/cancel`, headers: auth() });
  });
});

describe("GET /v1/verifications/{id}/events", () => {
  it("shows the backend the risk outcome and hides it from the client token", async () => {
    const v = await start("+447400600005");
    const read = async (token?: string) =>
      (await t.app.inject({ url: `/v1/verifications/${v.id}/events`, headers: auth(token) })).json().data[0].data;
    expect(await read()).toHaveProperty("risk");
    expect(await read(v.client_token)).not.toHaveProperty("risk");
    await t.app.inject({ method: "POST", url: `/v1/verifications/${v.id}/cancel`, headers: auth() });
  });
});

describe("GET /v1/events", () => {
  it("pages through the application's events in order with after= and limit=", async () => {
    const all: { id: string; type: string }[] = [];
    let after: string | undefined;
    for (;;) {
      const query = after ? `?limit=3&after=${after}` : "?limit=3";
      const page = (await t.app.inject({ url: `/v1/events${query}`, headers: auth() })).json();
      all.push(...page.data);
      after = page.next_after;
      if (!page.has_more) break;
    }
    expect(all.length).toBeGreaterThan(6);
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
    const direct = (await t.app.inject({ url: "/v1/events?limit=500", headers: auth() })).json().data;
    expect(all).toEqual(direct);
    const unknown = await t.app.inject({ url: "/v1/events?after=evt_nope", headers: auth() });
    expect(unknown.json().error.code).toBe("EVENT_NOT_FOUND");
    const bad = await t.app.inject({ url: "/v1/events?limit=0", headers: auth() });
    expect(bad.json().error.code).toBe("INVALID_REQUEST");
  });
});
