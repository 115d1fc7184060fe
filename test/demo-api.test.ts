/**
 * POST /demo/api/verifications, the demo page's stand-in backend: it starts a flash call with the fallback the
 * visitor picked and answers what a browser may hold (id, client token, the client's view), nothing more; it
 * validates like every route; it exists only with the sandbox on.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auth, createTestApp, eventually, type TestApp } from "./support/test-app.js";

describe("POST /demo/api/verifications", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const start = (payload: Record<string, unknown>) =>
    t.app.inject({ method: "POST", url: "/demo/api/verifications", payload });

  it("starts a flash call then the fallback, and answers only what a client token may read", async () => {
    const res = await start({ phone: "+447400123456", fallback: "whatsapp" });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(["client_token", "id", "verification"]);
    expect(body.verification).toMatchObject({
      id: body.id,
      status: "pending",
      channel: "flashcall",
      workflow: [{ channel: "flashcall" }, { channel: "whatsapp" }],
      flashcall: { pattern: expect.stringMatching(/^\+\d+\*{4}$/), code_length: 4 },
      reference: null,
      metadata: null,
      client: null,
      risk: null,
      verified_caller_id: null,
    });
    // The client token it handed out is the verification's: it reads and checks it.
    const read = await t.app.inject({
      method: "GET",
      url: `/v1/verifications/${body.id}`,
      headers: auth(body.client_token),
    });
    expect(read.statusCode).toBe(200);
    const call = await eventually(() => t.services.sandbox?.handsets.calls("+447400123456").at(0));
    const check = await t.app.inject({
      method: "POST",
      url: `/v1/verifications/${body.id}/check`,
      headers: auth(body.client_token),
      payload: { caller_id: call.from },
    });
    expect(check.json()).toMatchObject({ status: "verified" });
  });

  it("sends the email fallback to the address given, and refuses it without one", async () => {
    const res = await start({ phone: "+445612345678", fallback: "email", email: "visitor@example.com" });
    expect(res.statusCode).toBe(201);
    // A VoIP number has no call log: the flash call is skipped and the email goes first.
    expect(res.json().verification).toMatchObject({ channel: "email", message: { channel: "email", code_length: 6 } });
    const missing = await start({ phone: "+447400123456", fallback: "email" });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error).toMatchObject({ code: "INVALID_REQUEST" });
    expect(missing.json().error.message).toContain("email");
  });

  it("validates with the error table and starts nothing on bad input", async () => {
    const before = t.services.sandbox?.handsets.calls("+447400129999").length;
    for (const payload of [
      {},
      { phone: "+447400129999", fallback: "pigeon" },
      { phone: "+447400129999", workflow: [{ channel: "sms" }] },
      { phone: "+447400129999", email: "not an address", fallback: "email" },
      { phone: "x".repeat(65) },
    ]) {
      const res = await start(payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.code).toBe("INVALID_REQUEST");
    }
    const invalid = await start({ phone: "+4474" });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().error.code).toBe("INVALID_PHONE_NUMBER");
    expect(t.services.sandbox?.handsets.calls("+447400129999").length).toBe(before);
  });
});

describe("POST /demo/api/verifications without the sandbox", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ SANDBOX: "off", SIP_TRUNK_HOST: "127.0.1.2", POOL_NUMBERS: "+44207946xxxx" });
  });
  afterAll(() => t.close());

  it("does not exist: without virtual phones it would start real calls for anyone", async () => {
    const res = await t.app.inject({
      method: "POST",
      url: "/demo/api/verifications",
      payload: { phone: "+447400123456" },
    });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe("NOT_FOUND");
  });
});

describe("the demo's workflow auto", () => {
  let t: TestApp;
  beforeAll(async () => {
    // The least sample at which nine calls that all failed are enough (Wilson's upper bound 0.299 < 0.3), and no
    // exploration, so the demo's switch is exact.
    t = await createTestApp({ AUTO_MIN_SAMPLES: "9", AUTO_EXPLORATION: "0", AUTO_FLUSH_MS: "100" });
  });
  afterAll(() => t.close());

  it("switches the dropping range from the flash call to a call from the phone once it has measured it", async () => {
    const phone = "+447520123456";
    const demo = async () => {
      const res = await t.app.inject({
        method: "POST",
        url: "/demo/api/verifications",
        payload: { phone, fallback: "auto" },
      });
      expect(res.statusCode, res.body).toBe(201);
      return res.json();
    };
    for (let i = 0; i < 9; i++) {
      const started = await demo();
      expect(started.verification.channel).toBe("flashcall");
      // The carrier answers 180 and 487: the call reads delivered, and the virtual phone shows nothing.
      await eventually(async () => {
        const read = await t.app.inject({
          url: `/v1/verifications/${started.id}`,
          headers: auth(started.client_token),
        });
        return read.json().attempts[0]?.status === "delivered" ? true : undefined;
      });
    }
    expect((await t.app.inject({ url: `/sandbox/phones/${encodeURIComponent(phone)}` })).json().calls).toEqual([]);
    await t.services.delivery.flush();

    const switched = await demo();
    expect(switched.verification).toMatchObject({ channel: "reverse_flashcall", channel_choice: null });
    const backend = (await t.app.inject({ url: `/v1/verifications/${switched.id}`, headers: auth() })).json();
    expect(backend.channel_choice).toMatchObject({ network: "GB:7520", samples: 9, reason: "below_threshold" });
    const dial = switched.verification.reverse_flashcall.dial;
    const called = await t.app.inject({
      method: "POST",
      url: `/sandbox/phones/${encodeURIComponent(phone)}/calls`,
      payload: { to: dial },
    });
    expect(called.statusCode, called.body).toBe(200);
    const done = await t.app.inject({ url: `/v1/verifications/${switched.id}`, headers: auth(switched.client_token) });
    expect(done.json().status).toBe("verified");
  });
});
