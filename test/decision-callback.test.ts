/** The pre-send decision callback: allow, deny (nothing is sent), and the default when the answer is late. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auth, createTestApp, eventually, type TestApp } from "./support/test-app.js";
import { WebhookReceiver } from "./support/webhook-receiver.js";

let t: TestApp;
let receiver: WebhookReceiver;
beforeAll(async () => {
  t = await createTestApp({ WEBHOOK_ALLOW_PRIVATE: "loopback", SANDBOX_SIP_ADDRESS: "127.0.0.63" });
  receiver = await WebhookReceiver.start("127.0.0.64");
});
afterAll(async () => {
  await receiver.close();
  await t.close();
});

async function configure(body: Record<string, unknown>) {
  const res = await t.app.inject({
    method: "PUT",
    url: "/v1/decision-callback",
    headers: auth(),
    payload: { url: receiver.url, ...body },
  });
  expect(res.statusCode).toBe(200);
  receiver.secrets = [res.json().secret];
}

async function start(phone: string) {
  const res = await t.app.inject({
    method: "POST",
    url: "/v1/verifications",
    headers: auth(),
    payload: { phone, reference: "signup-7", client: { ip: "203.0.113.9" } },
  });
  expect(res.statusCode).toBe(201);
  return res.json();
}

const calls = async (phone: string) => (await t.app.inject({ url: `/sandbox/phones/${phone}` })).json().calls;

it("asks the application before sending, signed, and a deny ends the verification without a call", async () => {
  await configure({ timeout_ms: 2000 });
  receiver.answers.push({ status: 200, body: JSON.stringify({ decision: "deny" }) });
  const phone = "+447400700001";
  const denied = await start(phone);
  expect(denied).toMatchObject({ status: "failed", verification: { reason: "denied_by_application", attempts: [] } });
  const [request] = receiver.received;
  expect(request?.verified).toBe(true);
  expect(request?.json).toMatchObject({
    type: "verification.decision",
    data: { verification_id: denied.id, phone, country: "GB", reference: "signup-7", client: { ip: "203.0.113.9" } },
  });
  const events = (await t.app.inject({ url: `/v1/verifications/${denied.id}/events`, headers: auth() })).json().data;
  expect(events.map((e: { type: string; data: { reason?: string } }) => [e.type, e.data.reason])).toEqual([
    ["verification.started", undefined],
    ["verification.blocked", "denied_by_application"],
  ]);
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(await calls(phone)).toEqual([]);
});

it("an allow places the call as usual", async () => {
  receiver.answers.push({ status: 200, body: JSON.stringify({ decision: "allow", workflow: ["flashcall", "sms"] }) });
  const phone = "+447400700002";
  const allowed = await start(phone);
  expect(allowed.status).toBe("pending");
  expect(await eventually(async () => (await calls(phone))[0])).toBeDefined();
});

it("applies the configured default when the answer is late or unreadable", async () => {
  await configure({ timeout_ms: 150, default_decision: "deny" });
  receiver.answers.push({ status: 200, body: JSON.stringify({ decision: "allow" }), delayMs: 1000 });
  expect((await start("+447400700003")).status).toBe("failed");
  receiver.answers.push({ status: 200, body: "yes please" });
  expect((await start("+447400700004")).status).toBe("failed");

  await configure({ timeout_ms: 150, default_decision: "allow" });
  receiver.answers.push({ status: 500 });
  expect((await start("+447400700005")).status).toBe("pending");
});

it("is managed per application and removable", async () => {
  const read = await t.app.inject({ url: "/v1/decision-callback", headers: auth() });
  expect(read.json()).toMatchObject({ url: receiver.url, default_decision: "allow", timeout_ms: 150 });
  const refused = await t.app.inject({
    method: "PUT",
    url: "/v1/decision-callback",
    headers: auth(),
    payload: { url: "http://10.0.0.1/decide" },
  });
  expect(refused.json().error.code).toBe("URL_NOT_ALLOWED");
  expect((await t.app.inject({ method: "DELETE", url: "/v1/decision-callback", headers: auth() })).statusCode).toBe(
    204,
  );
  const before = receiver.received.length;
  expect((await start("+447400700006")).status).toBe("pending");
  expect(receiver.received.length).toBe(before);
});

describe("the workflow a callback chooses", () => {
  // Sends SMS by default and allows flash calls only to the US.
  let s: TestApp;
  let decider: WebhookReceiver;
  beforeAll(async () => {
    s = await createTestApp({
      WEBHOOK_ALLOW_PRIVATE: "loopback",
      SANDBOX_SIP_ADDRESS: "127.0.0.100",
      WORKFLOW: "sms",
      FRAUD_FLASHCALL_COUNTRIES: "US",
    });
    decider = await WebhookReceiver.start("127.0.0.101");
    const res = await s.app.inject({
      method: "PUT",
      url: "/v1/decision-callback",
      headers: auth(),
      payload: { url: decider.url, timeout_ms: 2000 },
    });
    expect(res.statusCode).toBe(200);
    decider.secrets = [res.json().secret];
  });
  afterAll(async () => {
    await decider.close();
    await s.close();
  });

  const startOn = (phone: string, workflow?: { channel: string }[]) =>
    s.app.inject({
      method: "POST",
      url: "/v1/verifications",
      headers: auth(),
      payload: { phone, ...(workflow ? { workflow } : {}) },
    });

  it("is screened like a direct request: a flash call to a country it may not call is refused, and nothing is sent", async () => {
    const phone = "+447400700101";
    const direct = await startOn(phone, [{ channel: "flashcall" }]);
    expect(direct.statusCode).toBe(403);
    expect(direct.json().error.code).toBe("COUNTRY_NOT_ALLOWED");

    decider.answers.push({ status: 200, body: JSON.stringify({ decision: "allow", workflow: ["flashcall"] }) });
    const chosen = await startOn(phone);
    expect(decider.received.at(-1)?.json).toMatchObject({ data: { channel: "sms" } });
    expect(chosen.statusCode).toBe(403);
    expect(chosen.json().error.code).toBe("COUNTRY_NOT_ALLOWED");
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await s.app.inject({ url: `/sandbox/phones/${phone}` })).json().calls).toEqual([]);
  });

  it("that passes the screening is what is sent", async () => {
    decider.answers.push({ status: 200, body: JSON.stringify({ decision: "allow", workflow: ["flashcall", "sms"] }) });
    const phone = "+12025550101";
    const res = await startOn(phone);
    expect(res.statusCode).toBe(201);
    expect(res.json().verification.workflow.map((step: { channel: string }) => step.channel)).toEqual([
      "flashcall",
      "sms",
    ]);
    const calls = async () => (await s.app.inject({ url: `/sandbox/phones/${phone}` })).json().calls;
    expect(await eventually(async () => (await calls())[0])).toBeDefined();
  });
});
