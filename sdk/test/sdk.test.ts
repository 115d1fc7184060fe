/**
 * The SDK: caller-ID matching, webhook verification against the server's own signer, and the client against the
 * real server (SQLite, the sandbox's SIP handsets), over HTTP with live status over SSE.
 */
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newWebhookSecret, webhookHeaders } from "../../src/events/signature.js";
import { auth, createTestApp, eventually, TEST_KEY, type TestApp } from "../../test/support/test-app.js";
import {
  codeFromCallerId,
  createClient,
  FlashverifyError,
  type LiveEvent,
  matchesPattern,
  verifyWebhookSignature,
} from "../src/index.js";

describe("matchesPattern / codeFromCallerId", () => {
  const pattern = "+44207941****";
  it("reads the code from the forms a call log shows", () => {
    for (const callerId of [
      "+442079412345",
      "+44 20 7941 2345",
      "0044 20 7941 2345",
      "020 7941 2345",
      "(020) 7941-2345",
    ]) {
      expect(codeFromCallerId(callerId, pattern), callerId).toBe("2345");
    }
    expect(matchesPattern("+12015550123", "+1201555****")).toBe(true);
    expect(matchesPattern("201 555 0123", "+1201555****")).toBe(true);
  });

  it("refuses other numbers, other lengths and non-ASCII digits", () => {
    for (const callerId of [
      "+442079422345",
      "+4420794123456",
      "+44207941234",
      "2345",
      "+44 20 7941 ２３４５",
      "anonymous",
      "",
    ]) {
      expect(codeFromCallerId(callerId, pattern), callerId).toBeNull();
    }
    expect(codeFromCallerId("+442079412345", "+44207941")).toBeNull();
  });
});

describe("verifyWebhookSignature", () => {
  const secret = newWebhookSecret();
  const body = JSON.stringify({ type: "verification.verified", data: { verification_id: "ver_1" } });
  const now = 1_790_000_000;

  it("accepts what the server signs, under either secret during a rotation", async () => {
    const headers = webhookHeaders([secret], "msg_1", now, body);
    expect(await verifyWebhookSignature(secret, headers, body, { nowSeconds: now })).toEqual({ ok: true });
    const next = newWebhookSecret();
    const rotated = webhookHeaders([next, secret], "msg_2", now, body);
    expect(await verifyWebhookSignature(secret, rotated, body, { nowSeconds: now })).toEqual({ ok: true });
    expect(await verifyWebhookSignature(next, new Headers(rotated), body, { nowSeconds: now })).toEqual({ ok: true });
  });

  it("refuses a tampered body, another secret, a stale timestamp and missing headers", async () => {
    const headers = webhookHeaders([secret], "msg_3", now, body);
    const tampered = body.replace("ver_1", "ver_2");
    expect(await verifyWebhookSignature(secret, headers, tampered, { nowSeconds: now })).toEqual({
      ok: false,
      reason: "bad_signature",
    });
    expect(await verifyWebhookSignature(newWebhookSecret(), headers, body, { nowSeconds: now })).toMatchObject({
      ok: false,
    });
    expect(await verifyWebhookSignature(secret, headers, body, { nowSeconds: now + 301 })).toEqual({
      ok: false,
      reason: "stale_timestamp",
    });
    expect(await verifyWebhookSignature(secret, {}, body)).toEqual({ ok: false, reason: "missing_headers" });
  });
});

describe("the client against the server", () => {
  let t: TestApp;
  let baseUrl: string;
  beforeAll(async () => {
    t = await createTestApp({ WORKFLOW: "flashcall,sms" });
    await t.app.listen({ host: "127.0.0.1", port: 0 });
    baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });
  afterAll(() => t.close());

  it("starts from the backend; the app streams live status, matches the missed call and verifies", async () => {
    const backend = createClient({ baseUrl, token: TEST_KEY });
    const phone = "+447400210001";
    const started = await backend.start({ phone }, "signup-210001");
    expect(started.flashcall?.pattern).toMatch(/^\+4420794\d\*{4}$/);

    const app = createClient({ baseUrl, token: started.client_token });
    const events: LiveEvent[] = [];
    const subscription = app.subscribe(started.id, (event) => events.push(event));
    const callerId = await eventually(() => {
      const call = t.services.sandbox?.handsets.calls(phone)[0];
      return call?.result === "missed" ? call.from : undefined;
    });
    const code = codeFromCallerId(callerId, started.flashcall?.pattern as string);
    expect(code).toMatch(/^\d{4}$/);
    expect(await app.check(started.id, { code: code as string })).toMatchObject({ status: "verified" });
    await eventually(() => (events.some((e) => e.type === "verification.verified") ? true : undefined));
    subscription.close();
    expect(events[0]?.type).toBe("state");
    // The app learns that the phone rang: as an event, or already in the opening state when the handset rang
    // before the stream opened (the server places the call before it answers the start). A client token sees no
    // attempt times, so the opening state says it by the attempt's status.
    const opening = events[0]?.data as { attempts?: { status: string }[] };
    const rangBeforeStream = ["ringing", "delivered"].includes(opening.attempts?.[0]?.status ?? "");
    expect(rangBeforeStream || events.some((e) => e.type === "attempt.ringing")).toBe(true);
    expect((await backend.get(started.id)).status).toBe("verified");
  });

  it("reports from the app what the phone saw of the call, counted once however often it is sent", async () => {
    const backend = createClient({ baseUrl, token: TEST_KEY });
    const phone = "+447400210004";
    const started = await backend.start({ phone });
    const app = createClient({ baseUrl, token: started.client_token });
    await eventually(async () => ((await app.get(started.id)).attempts[0]?.status === "delivered" ? true : undefined));
    const first = await app.report(started.id, { outcome: "not_received", source: "call_log" });
    expect(first).toMatchObject({ recorded: true, phone_report: { outcome: "not_received", source: "call_log" } });
    expect(await app.report(started.id, { outcome: "not_received", source: "call_log" })).toMatchObject({
      recorded: false,
    });
    const reports = (await app.events(started.id)).filter((e) => e.type === "attempt.reported");
    expect(reports.map((e) => e.data.outcome)).toEqual(["not_received"]);
    expect((await backend.get(started.id)).attempts[0]?.phone_report).toMatchObject({ outcome: "not_received" });
    await t.app.inject({ method: "POST", url: `/v1/verifications/${started.id}/cancel`, headers: auth() });
  });

  it('"Use SMS instead" from the app, and errors as FlashverifyError with the API\'s code', async () => {
    const backend = createClient({ baseUrl, token: TEST_KEY });
    const started = await backend.start({ phone: "+447400210002" });
    const app = createClient({ baseUrl, token: started.client_token });
    const moved = await app.next(started.id);
    expect(moved).toMatchObject({ channel: "sms", message: { channel: "sms", code_length: 6 } });
    // What happened so far, as the stream does not replay it: oldest first, no risk assessment for a client token.
    const history = await app.events(started.id);
    expect(history.map((e) => e.type)).toEqual(
      expect.arrayContaining(["verification.started", "attempt.dialing", "verification.fallback"]),
    );
    expect(history[0]?.type).toBe("verification.started");
    expect(history[0]?.data).not.toHaveProperty("risk");
    const error = await backend.start({ phone: "not a number" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FlashverifyError);
    expect(error).toMatchObject({ status: 400, code: "INVALID_PHONE_NUMBER" });
    // A client token opens one verification and nothing else.
    await expect(app.start({ phone: "+447400210003" })).rejects.toMatchObject({ status: 403 });
    await t.app.inject({ method: "POST", url: `/v1/verifications/${started.id}/cancel`, headers: auth() });
  });
});
