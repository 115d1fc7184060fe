/**
 * What the phones report and what review numbers do must neither give away a fraud decision nor bend the measurement
 * that workflow "auto" chooses channels by.
 *
 * - A shadow-blocked start shows its client a missed call like any other, so a report on it answers like any
 *   other (a 409 "nothing to report" would tell a fraudster the call was never placed); it is recorded for the
 *   client's view but left out of the delivery counts, which only real calls make.
 * - A review number's step is never sent: its "calls" and verifications are not the network's traffic. A synthetic
 *   check every minute on a review number would otherwise show a network that drops flash calls as converting.
 */
import { afterEach, describe, expect, it } from "vitest";
import { auth, createTestApp, DEFAULT_FRAUD_SETTINGS, eventually, type TestApp } from "./support/test-app.js";

const apps: TestApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read field by field and asserted, not trusted
type Json = Record<string, any>;

async function open(env: Record<string, string>, address: string): Promise<TestApp> {
  const t = await createTestApp({ ...env, SANDBOX_SIP_ADDRESS: address, SIP_LOCAL_ADDRESS: address });
  apps.push(t);
  return t;
}

const start = (t: TestApp, phone: string, headers: Record<string, string> = {}) =>
  t.app.inject({
    method: "POST",
    url: "/v1/verifications",
    headers: { ...auth(), ...headers },
    payload: { phone, workflow: [{ channel: "flashcall" }] },
  });

const read = async (t: TestApp, id: string): Promise<Json> =>
  (await t.app.inject({ url: `/v1/verifications/${id}`, headers: auth() })).json();

/** The delivery measurement of the network of +447400 numbers, summed. */
async function flashcallCounts(t: TestApp): Promise<Json> {
  const stats = (await t.app.inject({ url: "/v1/stats", headers: auth() })).json();
  const rows = (stats.delivery.networks as Json[]).map((n) => n.flashcall);
  const sum = (f: (r: Json) => number) => rows.reduce((total, r) => total + f(r), 0);
  return {
    placed: sum((r) => r.placed),
    verified: sum((r) => r.verified),
    not_received: sum((r) => r.reports.not_received),
  };
}

/** The phones' reports on flash calls to the network of +447400 numbers, summed. */
async function reportCounts(t: TestApp): Promise<Json> {
  const stats = (await t.app.inject({ url: "/v1/stats", headers: auth() })).json();
  const rows = (stats.delivery.networks as Json[]).map((n) => n.flashcall.reports);
  const sum = (name: string) => rows.reduce((total, r) => total + r[name], 0);
  return { received: sum("received"), late: sum("late"), not_received: sum("not_received") };
}

describe("reports and review numbers against the delivery measurement", () => {
  it("counts a call reported not_received and then late once, as late: the later report replaces the count", async () => {
    const t = await open({}, "127.0.35.40");
    const v = (await start(t, "+447400126301")).json();
    await eventually(async () => ((await read(t, v.id)).attempts[0].status === "delivered" ? true : undefined));
    const report = (outcome: string) =>
      t.app.inject({
        method: "POST",
        url: `/v1/verifications/${v.id}/report`,
        headers: auth(v.client_token),
        payload: { flashcall: { outcome, source: "call_log" } },
      });
    expect((await report("not_received")).json().recorded).toBe(true);
    expect(await reportCounts(t)).toEqual({ received: 0, late: 0, not_received: 1 });
    expect((await report("late")).json().recorded).toBe(true);
    expect(await reportCounts(t)).toEqual({ received: 0, late: 1, not_received: 0 });
    // Neither a weaker report nor a repeat changes the count.
    expect((await report("not_received")).json().recorded).toBe(false);
    expect((await report("late")).json().recorded).toBe(false);
    expect(await reportCounts(t)).toEqual({ received: 0, late: 1, not_received: 0 });
    // And so it stays once the counts went through the store and were read back.
    await t.services.delivery.flush();
    expect(await reportCounts(t)).toEqual({ received: 0, late: 1, not_received: 0 });
  });

  it("answers a report on a shadow-blocked call like one on a real call, and does not count it", async () => {
    const t = await open(
      {
        FRAUD_IP_COUNTRY_HEADER: "cf-ipcountry",
        FRAUD_RISK_BLOCK_SCORE: "0.3",
        FRAUD_RISK_BLOCK_ACTION: "shadow_block",
      },
      "127.0.26.40",
    );
    const real = (await start(t, "+447400126101")).json();
    const shadow = (await start(t, "+447400126102", { "cf-ipcountry": "NG" })).json();
    expect(shadow.verification.risk.outcome).toBe("shadow_block");
    for (const v of [real, shadow]) {
      await eventually(async () => {
        const status = (await read(t, v.id)).attempts[0].status;
        return status === "dialing" || status === "ringing" ? undefined : status;
      }, 15_000);
    }
    const report = (v: Json) =>
      t.app.inject({
        method: "POST",
        url: `/v1/verifications/${v.id}/report`,
        headers: auth(v.client_token),
        payload: { flashcall: { outcome: "not_received", source: "call_log" } },
      });
    const answers = [await report(real), await report(shadow)];
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200]);
    const [realAnswer, shadowAnswer] = answers.map((a) => a.json());
    expect(Object.keys(shadowAnswer)).toEqual(Object.keys(realAnswer));
    expect(shadowAnswer).toMatchObject({
      id: shadow.id,
      status: "pending",
      attempt_id: shadow.verification.attempts[0].id,
      phone_report: { outcome: "not_received", source: "call_log" },
      recorded: true,
    });
    // Only the real call's report is measured.
    expect(await flashcallCounts(t)).toMatchObject({ not_received: 1 });
  });

  it("leaves review numbers' steps and verifications out of the measurement", async () => {
    const t = await open(DEFAULT_FRAUD_SETTINGS, "127.0.26.41");
    const phone = "+447400126201";
    const callerId = "+442071838750";
    const added = await t.app.inject({
      method: "POST",
      url: "/v1/review-numbers",
      headers: auth(),
      payload: { phone, caller_id: callerId },
    });
    expect(added.statusCode).toBe(201);
    for (let i = 0; i < 5; i++) {
      const v = (await start(t, phone)).json();
      await eventually(async () => ((await read(t, v.id)).attempts[0].status === "delivered" ? true : undefined));
      const code = callerId.slice(-v.flashcall.code_length);
      const checked = await t.app.inject({
        method: "POST",
        url: `/v1/verifications/${v.id}/check`,
        headers: auth(),
        payload: { code },
      });
      expect(checked.json().status).toBe("verified");
    }
    expect(await flashcallCounts(t)).toEqual({ placed: 0, verified: 0, not_received: 0 });
  });
});
