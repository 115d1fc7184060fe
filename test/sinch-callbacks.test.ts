/**
 * Sinch's verification callbacks: VerificationRequestEvent rides the pre-send decision callback (allow, deny, or
 * another method, which is screened and sent like any start) and VerificationResultEvent is a webhook delivery.
 * Both are checked with the Sinch SDK's own validator (`validateAuthenticationHeader`) and event reviver.
 */
import type { AddressInfo } from "node:net";
import { RequestFailedError, VerificationCallbackWebhooks, VerificationService } from "@sinch/verification";
import { afterAll, beforeAll, expect, it } from "vitest";
import { auth, createTestApp, eventually, type TestApp } from "./support/test-app.js";
import type { ReceivedWebhook } from "./support/webhook-receiver.js";
import { WebhookReceiver } from "./support/webhook-receiver.js";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read field by field and asserted, not trusted
type Json = Record<string, any>;

let t: TestApp;
let receiver: WebhookReceiver;
let sdk: VerificationService;
let validator: VerificationCallbackWebhooks;

beforeAll(async () => {
  t = await createTestApp({ WEBHOOK_ALLOW_PRIVATE: "loopback", SANDBOX_SIP_ADDRESS: "127.0.0.153" });
  await t.app.listen({ host: "127.0.0.152", port: 0 });
  receiver = await WebhookReceiver.start("127.0.0.154");
  const pair = (
    await t.app.inject({ method: "POST", url: "/v1/api-keys", headers: auth(), payload: { kind: "sinch" } })
  ).json();
  const credentials = { applicationKey: pair.application_key, applicationSecret: pair.application_secret };
  sdk = new VerificationService({
    ...credentials,
    verificationHostname: `http://127.0.0.152:${(t.app.server.address() as AddressInfo).port}`,
  });
  validator = new VerificationCallbackWebhooks(credentials);
  // One callback URL for both events, as a Sinch application has.
  const decision = await t.app.inject({
    method: "PUT",
    url: "/v1/decision-callback",
    headers: auth(),
    payload: { url: receiver.url, format: "sinch", timeout_ms: 2000 },
  });
  expect(decision.statusCode, decision.body).toBe(200);
  const endpoint = await t.app.inject({
    method: "POST",
    url: "/v1/webhook-endpoints",
    headers: auth(),
    payload: { url: receiver.url, format: "sinch" },
  });
  expect(endpoint.statusCode, endpoint.body).toBe(201);
  const wrongTypes = await t.app.inject({
    method: "POST",
    url: "/v1/webhook-endpoints",
    headers: auth(),
    payload: { url: receiver.url, format: "sinch", event_types: ["attempt.ringing"] },
  });
  expect(wrongTypes.statusCode).toBe(400);
  expect(endpoint.json()).toMatchObject({
    format: "sinch",
    event_types: expect.arrayContaining(["verification.verified"]),
  });
  receiver.fallback = { status: 200, body: JSON.stringify({ action: "allow" }) };
});
afterAll(async () => {
  await receiver.close();
  await t.close();
});

const path = new URL("http://x/hooks").pathname;

/** The callback of `event` about verification `id` (or number `phone`), once it arrived; delivered by the worker. */
function callback(event: string, match: (json: Json) => boolean): Promise<ReceivedWebhook> {
  return eventually(async () => {
    await t.services.webhooks.runOnce();
    return receiver.received.find((r) => (r.json as Json).event === event && match(r.json as Json));
  });
}

function expectSinchSigned(received: ReceivedWebhook): void {
  expect(received.headers.authorization).toMatch(/^Application [0-9a-f-]{36}:/);
  expect(validator.validateAuthenticationHeader(received.headers, received.body, path, "POST")).toBe(true);
  // The check can fail: another secret, or another body, is refused.
  const other = new VerificationCallbackWebhooks({
    applicationKey: String(received.headers.authorization).slice(12, 48),
    applicationSecret: Buffer.alloc(32, 1).toString("base64"),
  });
  expect(other.validateAuthenticationHeader(received.headers, received.body, path, "POST")).toBe(false);
  expect(validator.validateAuthenticationHeader(received.headers, `${received.body} `, path, "POST")).toBe(false);
}

const missedCall = (phone: string) =>
  eventually(async () => {
    const res = await t.app.inject({ url: `/sandbox/phones/${encodeURIComponent(phone)}` });
    return (res.json().calls as Json[])[0]?.from as string | undefined;
  });

it("asks VerificationRequestEvent before the call and sends VerificationResultEvent after, both Sinch-signed", async () => {
  const phone = "+447400150101";
  const started = await sdk.verifications.startFlashCall({
    startVerificationWithFlashCallRequestBody: {
      identity: { type: "number", endpoint: phone },
      reference: "cb-1",
      custom: "cart 9",
    },
  });
  const request = await callback("VerificationRequestEvent", (j) => j.id === started.id);
  expectSinchSigned(request);
  expect(VerificationCallbackWebhooks.parseEvent(request.body)).toEqual({
    id: started.id,
    event: "VerificationRequestEvent",
    method: "flashcall",
    identity: { type: "number", endpoint: phone },
    reference: "cb-1",
    custom: "cart 9",
  });

  const cli = await missedCall(phone);
  await sdk.verifications.reportFlashCallById({
    id: started.id as string,
    reportFlashCallVerificationByIdRequestBody: { flashCall: { cli } },
  });
  const result = await callback("VerificationResultEvent", (j) => j.id === started.id);
  expectSinchSigned(result);
  expect(VerificationCallbackWebhooks.parseEvent(result.body)).toMatchObject({
    id: started.id,
    event: "VerificationResultEvent",
    method: "flashcall",
    identity: { type: "number", endpoint: phone },
    status: "SUCCESSFUL",
    reference: "cb-1",
    custom: "cart 9",
  });
  // Neither event carries the caller ID: the code is never in a callback.
  expect(request.body).not.toContain(cli.slice(1));
  expect(result.body).not.toContain(cli.slice(1));
});

it("a deny answer sends nothing: the start fails with Sinch's 40300 and the result says DENIED", async () => {
  const phone = "+447400150102";
  receiver.answers.push({ status: 200, body: JSON.stringify({ action: "deny" }) });
  const error = await sdk.verifications
    .startFlashCall({ startVerificationWithFlashCallRequestBody: { identity: { type: "number", endpoint: phone } } })
    .then(
      () => undefined,
      (e: unknown) => e as RequestFailedError<unknown>,
    );
  expect(error).toBeInstanceOf(RequestFailedError);
  expect(error?.statusCode).toBe(403);
  expect(JSON.parse(error?.data as string)).toMatchObject({ errorCode: 40300 });
  const result = await callback("VerificationResultEvent", (j) => j.identity?.endpoint === phone);
  expectSinchSigned(result);
  expect(result.json).toMatchObject({ status: "DENIED", reason: "Denied by callback", method: "flashcall" });
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect((await t.app.inject({ url: `/sandbox/phones/${encodeURIComponent(phone)}` })).json().calls).toEqual([]);
});

it("the answer may choose another method, which is started instead", async () => {
  const phone = "+447400150103";
  receiver.answers.push({ status: 200, body: JSON.stringify({ action: "allow", method: "sms" }) });
  const started = await sdk.verifications.startFlashCall({
    startVerificationWithFlashCallRequestBody: { identity: { type: "number", endpoint: phone } },
  });
  expect(started).toMatchObject({ method: "sms" });
  const text = await eventually(async () => {
    const res = await t.app.inject({ url: `/sandbox/phones/${encodeURIComponent(phone)}` });
    return (res.json().messages as Json[])[0]?.text as string | undefined;
  });
  const code = text.match(/\b(\d{6})\b/)?.[1] as string;
  const reported = await sdk.verifications.reportSmsById({
    id: started.id as string,
    reportSmsVerificationByIdRequestBody: { sms: { code } },
  });
  expect(reported).toMatchObject({ status: "SUCCESSFUL", method: "sms" });
  expect((await t.app.inject({ url: `/sandbox/phones/${encodeURIComponent(phone)}` })).json().calls).toEqual([]);
});
