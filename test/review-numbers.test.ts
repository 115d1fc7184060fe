/**
 * App-review and monitoring numbers (issue 17, item 12): an application's numbers that verify with a fixed code or
 * caller ID and never send anything. With every fraud default as shipped, a review number starts again and again from
 * one address (no limit, no risk score, no pumping detector) while the sandbox's handsets and SMSC see nothing; it is
 * marked in its events and views; a wrong code still fails and counts; adding and removing are audited; and once
 * removed, the same number is an ordinary number again whose first start really calls.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createTestApp, DEFAULT_FRAUD_SETTINGS, eventually, TEST_KEY, type TestApp } from "./support/test-app.js";

const ADDRESS = "127.0.17.1";
const PHONE = "+447400555071";
const CALLER_ID = "+442071838750";
const headers = { authorization: `Bearer ${TEST_KEY}` };
const apps: TestApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function open(): Promise<TestApp> {
  const t = await createTestApp({
    ...DEFAULT_FRAUD_SETTINGS,
    SANDBOX_SIP_ADDRESS: ADDRESS,
    SIP_LOCAL_ADDRESS: ADDRESS,
  });
  apps.push(t);
  return t;
}

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read field by field and asserted, not trusted
type Json = Record<string, any>;

const start = (t: TestApp, workflow: string[] = ["flashcall"], phone = PHONE) =>
  t.app.inject({
    method: "POST",
    url: "/v1/verifications",
    headers,
    remoteAddress: "203.0.113.9",
    payload: { phone, workflow: workflow.map((channel) => ({ channel })) },
  });

const check = (t: TestApp, id: string, body: Json) =>
  t.app.inject({ method: "POST", url: `/v1/verifications/${id}/check`, headers, payload: body });

const read = async (t: TestApp, id: string): Promise<Json> =>
  (await t.app.inject({ url: `/v1/verifications/${id}`, headers })).json();

const events = async (t: TestApp, id: string): Promise<Json[]> =>
  (await t.app.inject({ url: `/v1/verifications/${id}/events`, headers })).json().data;

const addNumber = (t: TestApp, body: Json) =>
  t.app.inject({ method: "POST", url: "/v1/review-numbers", headers, payload: body });

/** What the sandbox carrier saw for a number: calls on its handset and messages at its SMSC. */
async function carrierSaw(t: TestApp, phone: string): Promise<{ calls: unknown[]; messages: unknown[] }> {
  const res = await t.app.inject({ url: `/sandbox/phones/${encodeURIComponent(phone)}` });
  return res.json();
}

describe("review numbers", () => {
  it("verify with the fixed caller ID or code, again and again from one address, and send nothing", async () => {
    const t = await open();
    const added = await addNumber(t, { phone: PHONE, code: "246810", caller_id: CALLER_ID, label: "App Store review" });
    expect(added.statusCode).toBe(201);
    const number = added.json();
    expect(number).toMatchObject({ phone: PHONE, code: "246810", caller_id: CALLER_ID, removed_at: null });
    expect(number.created_by).toMatch(/^key_/);

    // Twelve starts to one number from one address: the destination limit (5 per 10 minutes) never applies.
    const ids: string[] = [];
    let checksAllowed = 0;
    for (let i = 0; i < 12; i++) {
      const res = await start(t);
      expect(res.statusCode, res.body).toBe(201);
      const v = res.json();
      expect(v.flashcall.pattern).toBe(
        `${CALLER_ID.slice(0, -v.flashcall.code_length)}${"*".repeat(v.flashcall.code_length)}`,
      );
      expect(v.verification).toMatchObject({ review_number_id: number.id, risk: null });
      ids.push(v.id);
      checksAllowed = v.verification.attempts_remaining;
    }
    const first = ids[0] as string;
    // The step completes virtually: the call "rang" and ended as a missed call, at no cost.
    const done = await eventually(async () => {
      const v = await read(t, first);
      return v.attempts[0].status === "delivered" ? v : undefined;
    });
    expect(done.attempts[0]).toMatchObject({ reason: "review_number", cost: null, channel: "flashcall" });
    expect(done.cost.total).toBe(0);
    const types = (await events(t, first)).map((e) => [e.type, e.data.review ?? e.data.reason ?? null]);
    expect(types).toEqual([
      ["verification.started", true],
      ["attempt.dialing", null],
      ["attempt.ringing", null],
      ["attempt.delivered", "review_number"],
    ]);

    // A wrong code fails and is counted; the caller ID's digits verify.
    const wrong = await check(t, first, { code: "0000" });
    expect(wrong.json()).toMatchObject({ status: "pending", attempts_remaining: checksAllowed - 1 });
    const codeLength = done.flashcall.code_length as number;
    const right = await check(t, first, { code: CALLER_ID.slice(-codeLength) });
    expect(right.json().status).toBe("verified");
    expect((await read(t, first)).verified_caller_id).toBe(CALLER_ID);

    // A message step takes the fixed code, and a resend ("use SMS instead" on the last step) takes it again.
    const sms = (await start(t, ["sms"])).json();
    expect(sms.message).toEqual({ channel: "sms", code_length: 6 });
    const resent = await t.app.inject({ method: "POST", url: `/v1/verifications/${sms.id}/next`, headers });
    expect(resent.statusCode).toBe(200);
    expect((await check(t, sms.id, { code: "246810" })).json().status).toBe("verified");
    const smsRead = await read(t, sms.id);
    expect(smsRead.attempts.map((a: Json) => [a.channel, a.status, a.reason])).toEqual([
      ["sms", "delivered", "review_number"],
      ["sms", "delivered", "review_number"],
    ]);

    // The list marks them; the carrier never saw a call or a message for the number.
    const list = (await t.app.inject({ url: "/v1/verifications?limit=100", headers })).json().data as Json[];
    expect(list.filter((v) => v.review_number_id === number.id)).toHaveLength(13);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await carrierSaw(t, PHONE)).toMatchObject({ calls: [], messages: [] });
  });

  it("still fail a wrong code: the checks run out as for any number", async () => {
    const t = await open();
    expect((await addNumber(t, { phone: PHONE, code: "246810" })).statusCode).toBe(201);
    const v = (await start(t, ["sms"])).json();
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await check(t, v.id, { code: String(100000 + i) });
      answers.push(res.statusCode === 200 ? res.json().status : res.json().error.code);
    }
    expect(answers.slice(0, 4)).toEqual(["pending", "pending", "pending", "pending"]);
    expect(answers[4]).toBe("failed");
    expect((await read(t, v.id)).reason).toBe("max_checks");
    // Its code no longer verifies anything: the verification is over.
    const late = await check(t, v.id, { code: "246810" });
    expect(late.json().status ?? late.json().error.code).not.toBe("verified");
  });

  it("are checked when added, audited when removed, and once removed the number is an ordinary one", async () => {
    const t = await open();
    const bad = await addNumber(t, { phone: PHONE, code: "12ab" });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error).toMatchObject({ code: "INVALID_REVIEW_NUMBER" });
    expect((await addNumber(t, { phone: PHONE })).json().error.code).toBe("INVALID_REVIEW_NUMBER");
    expect((await addNumber(t, { phone: "+4412", code: "1234" })).json().error.code).toBe("INVALID_PHONE_NUMBER");
    // A caller ID alone serves flash calls only.
    const added = (await addNumber(t, { phone: PHONE, caller_id: CALLER_ID })).json();
    expect((await addNumber(t, { phone: PHONE, code: "1234" })).json().error.code).toBe("REVIEW_NUMBER_EXISTS");
    const smsOnly = await start(t, ["sms"]);
    expect(smsOnly.statusCode).toBe(422);
    expect(smsOnly.json().error.code).toBe("INVALID_WORKFLOW");

    const removed = await t.app.inject({ method: "DELETE", url: `/v1/review-numbers/${added.id}`, headers });
    expect(removed.statusCode).toBe(204);
    const again = await t.app.inject({ method: "DELETE", url: `/v1/review-numbers/${added.id}`, headers });
    expect(again.json().error.code).toBe("REVIEW_NUMBER_NOT_FOUND");
    expect((await t.app.inject({ url: "/v1/review-numbers", headers })).json().data).toEqual([]);
    const audit = (await t.app.inject({ url: "/v1/review-numbers?include_removed=true", headers })).json().data;
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ id: added.id, created_by: added.created_by, removed_by: added.created_by });
    expect(Date.parse(audit[0].removed_at)).toBeGreaterThanOrEqual(Date.parse(audit[0].created_at));

    // Removed: a start to the number is a real start, and the sandbox's handset gets the call.
    const real = (await start(t)).json();
    expect(real.verification.review_number_id).toBeNull();
    expect(real.verification.risk).not.toBeNull();
    await eventually(async () => ((await carrierSaw(t, PHONE)).calls.length > 0 ? true : undefined));
  });
});
