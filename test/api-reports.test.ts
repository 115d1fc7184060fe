/**
 * Delivery reports from the phone (issue 18): POST /v1/verifications/{id}/report on the real stack, a flash call
 * through the sandbox's SIP handsets. A report verifies nothing, is an event, and a retry counts once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auth, createTestApp, eventually, type TestApp } from "./support/test-app.js";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ WORKFLOW: "flashcall,sms" });
});
afterAll(() => t.close());

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read field by field and asserted, not trusted
type Json = Record<string, any>;

async function start(payload: Json): Promise<Json> {
  const res = await t.app.inject({ method: "POST", url: "/v1/verifications", headers: auth(), payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

const get = async (id: string): Promise<Json> =>
  (await t.app.inject({ method: "GET", url: `/v1/verifications/${id}`, headers: auth() })).json();

const report = (id: string, token: string, flashcall: Json) =>
  t.app.inject({ method: "POST", url: `/v1/verifications/${id}/report`, headers: auth(token), payload: { flashcall } });

async function reportedEvents(id: string): Promise<Json[]> {
  const res = await t.app.inject({ method: "GET", url: `/v1/verifications/${id}/events`, headers: auth() });
  return (res.json().data as Json[]).filter((e) => e.type === "attempt.reported");
}

/** A flash call to a ringing sandbox number, once the call has ended (delivered). */
async function deliveredCall(phone: string): Promise<Json> {
  const started = await start({ phone });
  await eventually(async () => ((await get(started.id)).attempts[0]?.status === "delivered" ? true : undefined));
  return started;
}

describe("delivery reports", () => {
  it("records not_received once, lets late replace it, and never verifies", async () => {
    const started = await deliveredCall("+447400131001");
    const first = await report(started.id, started.client_token, { outcome: "not_received", source: "call_log" });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({
      id: started.id,
      status: "pending",
      attempt_id: started.verification.attempts[0].id,
      phone_report: { outcome: "not_received", source: "call_log" },
      recorded: true,
    });
    // A client retry: the same answer, nothing counted twice.
    const retry = await report(started.id, started.client_token, { outcome: "not_received", source: "call_log" });
    expect(retry.json()).toMatchObject({ recorded: false, phone_report: { outcome: "not_received" } });
    expect(await reportedEvents(started.id)).toHaveLength(1);

    // The call showed up after all, after the step had moved on.
    const late = await report(started.id, started.client_token, { outcome: "late", source: "intercept" });
    expect(late.json()).toMatchObject({ recorded: true, phone_report: { outcome: "late", source: "intercept" } });
    // Saying it never came, after it came, changes nothing.
    const back = await report(started.id, started.client_token, { outcome: "not_received", source: "manual" });
    expect(back.json()).toMatchObject({ recorded: false, phone_report: { outcome: "late" } });

    const events = await reportedEvents(started.id);
    expect(events.map((e) => e.data)).toEqual([
      expect.objectContaining({ channel: "flashcall", outcome: "not_received", source: "call_log" }),
      expect.objectContaining({ channel: "flashcall", outcome: "late", source: "intercept" }),
    ]);
    expect(events[0]?.data.attempt_id).toBe(started.verification.attempts[0].id);
    const v = await get(started.id);
    expect(v).toMatchObject({ status: "pending", attempts_remaining: 3, verified_caller_id: null });
    expect(v.attempts[0].phone_report).toMatchObject({ outcome: "late", source: "intercept" });
  });

  it("counts reports released at the same instant once", async () => {
    const started = await deliveredCall("+447400131002");
    const answers = await Promise.all(
      Array.from({ length: 12 }, () =>
        report(started.id, started.client_token, { outcome: "received", source: "intercept" }),
      ),
    );
    expect(answers.map((a) => a.statusCode)).toEqual(Array(12).fill(200));
    expect(answers.filter((a) => a.json().recorded)).toHaveLength(1);
    expect(await reportedEvents(started.id)).toHaveLength(1);
  });

  it("refuses bad input from the error table and changes nothing", async () => {
    const started = await deliveredCall("+447400131003");
    const before = await get(started.id);
    for (const flashcall of [
      { outcome: "maybe", source: "call_log" },
      { outcome: "received", source: "psychic" },
      { outcome: "received" },
      { outcome: "received", source: "manual", extra: 1 },
    ]) {
      const res = await report(started.id, started.client_token, flashcall);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().error.code).toBe("INVALID_REQUEST");
    }
    const after = await get(started.id);
    expect(after.updated_at).toBe(before.updated_at);
    expect(after.attempts[0].phone_report).toBeNull();
    expect(await reportedEvents(started.id)).toHaveLength(0);
  });

  it("answers NOTHING_TO_REPORT without a flash call, and another verification's token is refused", async () => {
    const sms = await start({ phone: "+447400131004", workflow: [{ channel: "sms" }] });
    const res = await report(sms.id, sms.client_token, { outcome: "not_received", source: "manual" });
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json().error.code).toBe("NOTHING_TO_REPORT");

    const other = await deliveredCall("+447400131005");
    const foreign = await report(other.id, sms.client_token, { outcome: "not_received", source: "manual" });
    expect(foreign.statusCode).toBe(401);
    expect(foreign.json().error.code).toBe("UNAUTHORIZED");
    expect(await reportedEvents(other.id)).toHaveLength(0);
  });
});
