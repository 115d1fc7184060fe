/**
 * Workflows end to end on the real stack: flash calls through the sandbox's SIP handsets, SMS through its SMSC
 * (SMPP), WhatsApp through its Cloud API stand-in and email through its SMTP mailbox.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "./support/scripted-channel.js";
import { auth, createTestApp, eventually, type TestApp } from "./support/test-app.js";

let t: TestApp;
beforeAll(async () => {
  // A long ring, so that "Use SMS instead" can be pressed while the phone still rings.
  t = await createTestApp({ SIP_RING_TIME_MS: "2000", WORKFLOW: "flashcall,sms" });
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

const check = (id: string, code: string, token?: string) =>
  t.app.inject({ method: "POST", url: `/v1/verifications/${id}/check`, headers: auth(token), payload: { code } });

/** The code in the newest message of a channel on the virtual handset. */
async function codeOnPhone(phone: string, channel: "sms" | "whatsapp" | "viber"): Promise<string> {
  return eventually(async () => {
    const res = await t.app.inject({ method: "GET", url: `/sandbox/phones/${encodeURIComponent(phone)}` });
    const message = (res.json().messages as Json[]).find((m) => m.channel === channel);
    return message?.text.match(/\b(\d{6})\b/)?.[1];
  });
}

async function events(id: string): Promise<Json[]> {
  const res = await t.app.inject({ method: "GET", url: `/v1/verifications/${id}/events`, headers: auth() });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().data;
}

describe("workflows", () => {
  it("answers a message step's check of the wrong shape by asking for its code, spending no check", async () => {
    const phone = "+447400130487";
    const started = await start({ phone, workflow: [{ channel: "sms" }] });
    const code = await codeOnPhone(phone, "sms");
    for (const wrongShape of [code.slice(1), "+442079460123", "12a456"]) {
      const res = await check(started.id, wrongShape, started.client_token);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().error).toMatchObject({
        code: "INVALID_CODE_FORMAT",
        message: "Send the 6-digit code the message carried, in ASCII digits.",
      });
    }
    expect((await get(started.id)).attempts_remaining).toBe(started.verification.attempts_remaining);
    expect((await check(started.id, code, started.client_token)).json()).toMatchObject({ status: "verified" });
  });

  it("falls back to SMS at once when the flash call is busy, and the SMS code verifies", async () => {
    const phone = "+447400130486";
    const started = await start({ phone });
    expect(started).toMatchObject({ channel: "flashcall" });
    expect(started.verification.workflow.map((s: Json) => s.channel)).toEqual(["flashcall", "sms"]);
    const code = await codeOnPhone(phone, "sms");
    // The SMSC's delivery receipt follows the message.
    const v = await eventually(async () => {
      const read = await get(started.id);
      return read.attempts[1]?.status === "delivered" ? read : undefined;
    });
    expect(v).toMatchObject({ status: "pending", channel: "sms", step: 1, flashcall: null });
    expect(v.message).toEqual({ channel: "sms", code_length: 6 });
    expect(v.attempts.map((a: Json) => [a.channel, a.status, a.reason])).toEqual([
      ["flashcall", "failed", "busy"],
      ["sms", "delivered", "delivered"],
    ]);
    // The busy call ended the step at once: far sooner than the flash call's 60 s timeout.
    expect(Date.parse(v.attempts[1].created_at) - Date.parse(v.created_at)).toBeLessThan(10_000);
    // List prices: the busy call never rang and is not charged; the GB SMS is, against an SMS-only verification.
    expect(v.cost).toEqual({ currency: "USD", total: 0.04, sms_only: 0.04, saving: 0 });
    expect(v.attempts.map((a: Json) => a.cost)).toEqual([0, 0.04]);
    const ok = await check(started.id, code, started.client_token);
    expect(ok.json()).toMatchObject({ status: "verified" });
    const types = (await events(started.id)).map((e) => e.type);
    expect(types).toContain("verification.fallback");
    expect(types.at(-1)).toBe("verification.verified");
    const fallback = (await events(started.id)).find((e) => e.type === "verification.fallback");
    expect(fallback?.data).toMatchObject({ from_channel: "flashcall", to_channel: "sms", reason: "attempt_failed" });
  });

  it("skips the flash call for a VoIP number, before anything is dialled", async () => {
    const phone = "+445600123456";
    const started = await start({ phone });
    expect(started).toMatchObject({ channel: "sms", flashcall: null, message: { channel: "sms", code_length: 6 } });
    expect(t.services.sandbox?.handsets.calls(phone)).toEqual([]);
    const code = await codeOnPhone(phone, "sms");
    expect((await check(started.id, code)).json()).toMatchObject({ status: "verified" });
    const fallback = (await events(started.id)).find((e) => e.type === "verification.fallback");
    expect(fallback?.data).toMatchObject({ from_channel: "flashcall", to_channel: "sms", reason: "number_type" });
  });

  it('workflow "auto" for a VoIP number chooses without the flash call, and its channel_choice says so', async () => {
    const phone = "+445600123457";
    const started = await start({ phone, workflow: "auto" });
    expect(started).toMatchObject({ channel: "sms", flashcall: null });
    const choice = started.verification.channel_choice;
    expect(choice).toMatchObject({ workflow: ["sms"], reason: "number_type" });
    expect(Object.keys(choice.expected_cost_per_verified)).toEqual(["sms"]);
    expect(t.services.sandbox?.handsets.calls(phone)).toEqual([]);
    const told = (await events(started.id)).find((e) => e.type === "verification.started");
    expect(told?.data.channel_choice).toEqual(choice);
    expect((await events(started.id)).map((e) => e.type)).not.toContain("verification.fallback");
  });

  it("refuses a landline when no step can reach it, and sends nothing", async () => {
    const res = await t.app.inject({
      method: "POST",
      url: "/v1/verifications",
      headers: auth(),
      payload: { phone: "+442079460123", workflow: [{ channel: "flashcall" }] },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatchObject({
      code: "NUMBER_TYPE_NOT_ALLOWED",
      details: { number_type: "FIXED_LINE", channel: "flashcall" },
    });
    expect(t.services.sandbox?.handsets.calls("+442079460123")).toEqual([]);
  });

  it('"Use SMS instead" while the phone rings: the call is hung up, its code dies, the SMS code verifies', async () => {
    const phone = "+447400130001";
    const started = await start({ phone });
    await eventually(() => (t.services.sandbox?.handsets.calls(phone)[0]?.result === "ringing" ? true : undefined));
    const next = await t.app.inject({
      method: "POST",
      url: `/v1/verifications/${started.id}/next`,
      headers: auth(started.client_token),
    });
    expect(next.statusCode, next.body).toBe(200);
    expect(next.json()).toMatchObject({ channel: "sms", step: 1 });
    const cli = t.services.sandbox?.handsets.calls(phone)[0]?.from as string;
    const code = await codeOnPhone(phone, "sms");
    // The flash call's code no longer counts (one live code), and costs a check like any wrong code.
    const stale = await check(started.id, cli.slice(-6).padStart(6, "0"), started.client_token);
    expect(stale.json()).toMatchObject({ status: "pending", attempts_remaining: 2 });
    expect((await check(started.id, code, started.client_token)).json()).toMatchObject({ status: "verified" });
    await eventually(() => (t.services.sandbox?.handsets.calls(phone)[0]?.result === "missed" ? true : undefined));
    const fallback = (await events(started.id)).find((e) => e.type === "verification.fallback");
    expect(fallback?.data).toMatchObject({ reason: "requested" });
    // The call rang (0.0115) and the SMS is priced once its receipt says delivered (0.04).
    const priced = await eventually(async () => {
      const read = await get(started.id);
      return read.attempts[1]?.status === "delivered" ? read : undefined;
    });
    expect(priced.cost).toMatchObject({ total: 0.0515 });
    expect(priced.attempts.map((a: Json) => a.cost)).toEqual([0.0115, 0.04]);
  });

  it("resends on the last step when asked, bounded per verification, and only the newest code counts", async () => {
    const phone = "+447400130002";
    const started = await start({ phone, workflow: [{ channel: "sms" }] });
    const first = await codeOnPhone(phone, "sms");
    const resend = await t.app.inject({ method: "POST", url: `/v1/verifications/${started.id}/next`, headers: auth() });
    expect(resend.statusCode, resend.body).toBe(200);
    const second = await eventually(async () => {
      const code = await codeOnPhone(phone, "sms");
      return code !== first ? code : undefined;
    });
    expect((await check(started.id, first)).json()).toMatchObject({ status: "pending" });
    expect((await check(started.id, second)).json()).toMatchObject({ status: "verified" });
    for (let i = 0; i < 3; i++) {
      const s = await start({ phone: "+447400130003", workflow: [{ channel: "sms" }] });
      if (i > 0) continue;
      let last = 200;
      for (let n = 0; n < 6 && last === 200; n++) {
        last = (await t.app.inject({ method: "POST", url: `/v1/verifications/${s.id}/next`, headers: auth() }))
          .statusCode;
      }
      expect(last).toBe(409);
      expect((await get(s.id)).attempts).toHaveLength(5);
    }
  });

  it("verifies over WhatsApp and over email", async () => {
    const phone = "+447400130004";
    const wa = await start({ phone, workflow: [{ channel: "whatsapp" }] });
    expect(wa.message).toEqual({ channel: "whatsapp", code_length: 6 });
    const waCode = await codeOnPhone(phone, "whatsapp");
    expect((await check(wa.id, waCode)).json()).toMatchObject({ status: "verified" });
    await eventually(async () => ((await get(wa.id)).attempts[0].status === "delivered" ? true : undefined));

    const email = "person@example.com";
    const byMail = await start({ phone, email, workflow: [{ channel: "email" }] });
    const mailCode = await eventually(async () => {
      const res = await t.app.inject({ method: "GET", url: `/sandbox/inbox/${email}` });
      return (res.json().messages as Json[])[0]?.text.match(/\b(\d{6})\b/)?.[1];
    });
    // The relay's 250 is the delivery: the attempt is not left to end `failed: no_receipt`.
    const mailed = await eventually(async () => {
      const read = await get(byMail.id);
      return read.attempts[0]?.status === "delivered" || read.attempts[0]?.status === "failed" ? read : undefined;
    });
    expect(mailed.attempts.map((a: Json) => [a.channel, a.status, a.reason])).toEqual([
      ["email", "delivered", "delivered"],
    ]);
    expect(mailed.attempts[0].detail).toMatch(/^250 /);
    expect((await check(byMail.id, mailCode)).json()).toMatchObject({ status: "verified" });
  });

  it("refuses workflows it cannot run, with a clear error and nothing sent", async () => {
    const cases: Array<[Json, number, string]> = [
      [{ workflow: [{ channel: "sms" }, { channel: "flashcall" }] }, 422, "INVALID_WORKFLOW"],
      [{ workflow: [{ channel: "email" }] }, 422, "NO_REACHABLE_CHANNEL"],
      [{ workflow: [{ channel: "fax" }] }, 400, "INVALID_REQUEST"],
      [{ workflow: [{ channel: "flashcall", timeout: 300 }] }, 400, "INVALID_REQUEST"],
      [{ workflow: [] }, 400, "INVALID_REQUEST"],
    ];
    for (const [extra, status, code] of cases) {
      const res = await t.app.inject({
        method: "POST",
        url: "/v1/verifications",
        headers: auth(),
        payload: { phone: "+447400130005", ...extra },
      });
      expect(res.statusCode, JSON.stringify(extra)).toBe(status);
      expect(res.json().error.code).toBe(code);
    }
    expect(t.services.sandbox?.smsc.messages("+447400130005")).toEqual([]);
  });
});

describe("POST /bat/messagelist (the flash-call provider's message-list API)", () => {
  const post = (payload: Json, key = "fv_test_key_0123456789abcdef") =>
    t.app.inject({ method: "POST", url: "/bat/messagelist", headers: { "x-authorization-key": key }, payload });

  it("maps each message and its fallbacks onto a workflow, masking the code the provider's example shows", async () => {
    const res = await post({
      messages: [
        {
          from: "Acme",
          to: "447400140486",
          type: "flashcall",
          ttl: 60,
          fallbacks: [{ from: "Acme", to: "447400140486", type: "sms", ttl: 120 }],
        },
        { to: "+447400140001", type: "flashcall" },
        { to: "447400140002", type: "viber_otp" },
        { to: "not-a-number", type: "sms" },
      ],
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.messagelistId).toMatch(/^mls_/);
    const [busy, plain, viber, bad] = body.messages;
    expect(busy).toMatchObject({ status: "accepted", to: "447400140486", ttl: 60 });
    expect(busy.pattern).toMatch(/^\+4420794\d\*{4}$/);
    expect(busy.callerId).toBe(busy.pattern);
    expect(plain).toMatchObject({ status: "accepted", ttl: 60 });
    expect(viber).toMatchObject({ status: "accepted", to: "447400140002", pattern: null });
    expect(bad).toMatchObject({ status: "rejected", error: { code: "INVALID_PHONE_NUMBER" } });

    // The busy flash call falls back to the SMS, whose code verifies the message through the v1 API.
    const code = await codeOnPhone("+447400140486", "sms");
    expect((await check(busy.messageId, code)).json()).toMatchObject({ status: "verified" });
    const v = await get(busy.messageId);
    expect(v.workflow).toEqual([
      { channel: "flashcall", timeout: 60 },
      { channel: "sms", timeout: 120 },
    ]);
  });

  it("runs the providers' cascade flashcall -> viber_otp -> sms: Viber when the call fails, SMS when Viber fails too", async () => {
    const cascade = (to: string) => ({
      to,
      type: "flashcall",
      fallbacks: [
        { to, type: "viber_otp", ttl: 120 },
        { to, type: "sms", ttl: 120 },
      ],
    });
    // 0486: the handset is busy, Viber delivers. 0404: the number does not exist on the phone network nor on Viber.
    const res = await post({ messages: [cascade("447400140486"), cascade("447400140404")] });
    expect(res.statusCode, res.body).toBe(200);
    const [onViber, onSms] = res.json().messages;
    expect(onViber).toMatchObject({ status: "accepted" });
    expect(onSms).toMatchObject({ status: "accepted" });

    const viberCode = await codeOnPhone("+447400140486", "viber");
    expect((await check(onViber.messageId, viberCode)).json()).toMatchObject({ status: "verified" });
    // Viber's signed `delivered` callback follows the message.
    const viaViber = await eventually(async () => {
      const read = await get(onViber.messageId);
      return read.attempts[1]?.status === "delivered" ? read : undefined;
    });
    expect(viaViber.attempts.map((a: Json) => [a.channel, a.status, a.reason])).toEqual([
      ["flashcall", "failed", "busy"],
      ["viber", "delivered", "delivered"],
    ]);
    expect(viaViber).toMatchObject({ status: "verified", channel: "viber" });

    const smsCode = await codeOnPhone("+447400140404", "sms");
    expect((await check(onSms.messageId, smsCode)).json()).toMatchObject({ status: "verified" });
    const viaSms = await eventually(async () => {
      const read = await get(onSms.messageId);
      return read.attempts[2]?.status === "delivered" ? read : undefined;
    });
    expect(viaSms.attempts.map((a: Json) => [a.channel, a.status, a.reason])).toEqual([
      ["flashcall", "failed", "not_found"],
      ["viber", "failed", "undeliverable"],
      ["sms", "delivered", "delivered"],
    ]);
    const onPhone = await t.app.inject({ method: "GET", url: "/sandbox/phones/%2B447400140404" });
    expect((onPhone.json().messages as Json[]).map((m) => m.channel)).toEqual(["sms"]);
  });

  it("refuses a flash call ttl above 120 s, and a wrong key, with clear errors and nothing sent", async () => {
    const long = await post({ messages: [{ to: "447400140003", type: "flashcall", ttl: 300 }] });
    expect(long.statusCode).toBe(400);
    expect(long.json().error.code).toBe("INVALID_REQUEST");
    expect(long.json().error.message).toContain("at most 120 seconds");
    const wrong = await post(
      { messages: [{ to: "447400140003", type: "flashcall" }] },
      "fv_wrong_key_0000000000000000",
    );
    expect(wrong.statusCode).toBe(401);
    expect(t.services.sandbox?.handsets.calls("+447400140003")).toEqual([]);
  });

  it("refuses a fallback to another number whole, and says why a message was rejected in words", async () => {
    const other = await post({
      messages: [
        { to: "447400140004", type: "flashcall" },
        { to: "447400140005", type: "flashcall", fallbacks: [{ to: "+447400140006", type: "sms" }] },
      ],
    });
    expect(other.statusCode, other.body).toBe(400);
    expect(other.json().error).toMatchObject({ code: "INVALID_REQUEST" });
    expect(other.json().error.message).toContain("body.messages.1.fallbacks.0.to");
    for (const phone of ["+447400140004", "+447400140005", "+447400140006"]) {
      expect(t.services.sandbox?.handsets.calls(phone)).toEqual([]);
      expect(t.services.sandbox?.smsc.messages(phone)).toEqual([]);
    }
    // The same number written as the provider's digits, with a plus or as 00: one number.
    const same = await post({
      messages: [{ to: "447400140007", type: "flashcall", fallbacks: [{ to: "00447400140007", type: "sms" }] }],
    });
    expect(same.json().messages?.[0], same.body).toMatchObject({ status: "accepted" });

    const bad = await post({ messages: [{ to: "not-a-number", type: "sms" }] });
    expect(bad.json().messages[0].error).toEqual({
      code: "INVALID_PHONE_NUMBER",
      message: "The phone number cannot be read as a valid E.164 number.",
    });
  });
});

describe("step timeouts", () => {
  it("opens the next step when the flash call rang but nobody checked in time, from the durable timer", async () => {
    const clock = new FakeClock(Date.now());
    const app = await createTestApp({ WORKFLOW: "flashcall:30,sms:60" }, clock);
    try {
      const phone = "+447400150001";
      const res = await app.app.inject({
        method: "POST",
        url: "/v1/verifications",
        headers: auth(),
        payload: { phone },
      });
      const started = res.json();
      expect(started.verification.next_step_at).toBe(new Date(clock.now() + 30_000).toISOString());
      const read = () => app.app.inject({ method: "GET", url: `/v1/verifications/${started.id}`, headers: auth() });
      await eventually(async () => ((await read()).json().attempts[0].status === "delivered" ? true : undefined));
      expect(await app.services.verifications.advanceDue()).toBe(0);
      clock.advance(30_000);
      expect(await app.services.verifications.advanceDue()).toBe(1);
      const v = (await read()).json();
      expect(v).toMatchObject({ status: "pending", channel: "sms", step: 1, next_step_at: null });
      expect(v.attempts.map((a: Json) => a.channel)).toEqual(["flashcall", "sms"]);
      const text = await eventually(() => app.services.sandbox?.smsc.messages(phone)[0]?.text);
      expect(text).toMatch(/\b\d{6}\b/);
    } finally {
      await app.close();
    }
  });
});

describe("fallbacks and the fraud controls", () => {
  it("screens a fallback like a first send: over the spend cap, the SMS is not sent and the verification fails", async () => {
    // A GB flash call (0.0115 USD) fits a 0.03 USD daily cap; the SMS fallback after it (0.04) would not.
    const app = await createTestApp({ WORKFLOW: "flashcall,sms", FRAUD_DAILY_SPEND_USD: "0.03" });
    try {
      const phone = "+447400160486";
      const res = await app.app.inject({
        method: "POST",
        url: "/v1/verifications",
        headers: auth(),
        payload: { phone },
      });
      expect(res.statusCode, res.body).toBe(201);
      const id = res.json().id;
      const v = await eventually(async () => {
        const read = (await app.app.inject({ method: "GET", url: `/v1/verifications/${id}`, headers: auth() })).json();
        return read.status === "failed" ? read : undefined;
      });
      expect(v.attempts.map((a: Json) => [a.channel, a.reason, a.detail])).toEqual([
        ["flashcall", "busy", null],
        ["sms", "refused_by_policy", "SPEND_CAP_REACHED"],
      ]);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(app.services.sandbox?.smsc.observed.filter((s) => s.to === phone)).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
