/**
 * The reverse flash call on the real stack, its calls placed by the sandbox's virtual phones (real SIP INVITEs from
 * the virtual carrier's address to the inbound listener): a step anywhere in a workflow, a shared number told apart
 * by caller, events and status, the per-caller limit and single verification holding when calls arrive at the
 * same instant, and a restart keeping the numbers of the calls that still wait.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auth, createTestApp, type TestApp } from "./support/test-app.js";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read field by field and asserted, not trusted
type Json = Record<string, any>;

const SHARED = "+442079460999";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ INBOUND_NUMBERS: SHARED, INBOUND_LIMITS: "caller=4/10m" });
});
afterAll(() => t.close());

async function start(payload: Json): Promise<Json> {
  const res = await t.app.inject({ method: "POST", url: "/v1/verifications", headers: auth(), payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

const read = async (id: string): Promise<Json> =>
  (await t.app.inject({ method: "GET", url: `/v1/verifications/${id}`, headers: auth() })).json();

/** The virtual phone `from` calls `to`: the server's final response. */
async function dial(from: string, to: string): Promise<Json> {
  const res = await t.app.inject({
    method: "POST",
    url: `/sandbox/phones/${encodeURIComponent(from)}/calls`,
    payload: { to },
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

async function events(id: string): Promise<Json[]> {
  return (await t.app.inject({ method: "GET", url: `/v1/verifications/${id}/events`, headers: auth() })).json().data;
}

const metric = async (outcome: string): Promise<number> => {
  const text = (await t.app.inject({ method: "GET", url: "/metrics" })).body;
  const line = text.split("\n").find((l) => l.startsWith(`flashverify_inbound_calls_total{outcome="${outcome}"}`));
  return line ? Number(line.split(" ").at(-1)) : 0;
};

describe("reverse flash call", () => {
  it("verifies from the virtual phone's call, with its events, and shows the client token the number until then", async () => {
    const phone = "+447400140001";
    const started = await start({ phone, workflow: [{ channel: "reverse_flashcall" }] });
    expect(started).toMatchObject({ channel: "reverse_flashcall", reverse_flashcall: { dial: SHARED } });
    expect(started.guess_probability).toBe(0);
    const client = await t.app.inject({
      method: "GET",
      url: `/v1/verifications/${started.id}`,
      headers: auth(started.client_token),
    });
    expect(client.json().reverse_flashcall).toEqual(started.reverse_flashcall);

    expect(await dial(phone, SHARED)).toEqual({ from: phone, to: SHARED, sip_code: 603, reason: "Decline" });
    const v = await read(started.id);
    expect(v).toMatchObject({ status: "verified", verified_caller_id: phone, reverse_flashcall: null });
    const types = (await events(started.id)).map((e) => [e.type, e.data.dial ?? e.data.caller_id ?? null]);
    expect(types).toEqual([
      ["verification.started", null],
      ["attempt.dialing", SHARED],
      ["attempt.delivered", null],
      ["verification.verified", phone],
    ]);
  });

  it("tells verifications sharing one number apart by the caller; a stranger's call counts against no one", async () => {
    const [a, b] = ["+447400140011", "+447400140012"];
    const va = await start({ phone: a, workflow: [{ channel: "reverse_flashcall" }] });
    const vb = await start({ phone: b, workflow: [{ channel: "reverse_flashcall" }] });
    expect([va.reverse_flashcall.dial, vb.reverse_flashcall.dial]).toEqual([SHARED, SHARED]);
    const noMatch = await metric("no_match");
    expect((await dial("+447400140019", SHARED)).sip_code).toBe(603);
    expect(await metric("no_match")).toBe(noMatch + 1);
    expect(await dial(b, SHARED)).toMatchObject({ sip_code: 603 });
    expect(await read(vb.id)).toMatchObject({ status: "verified", verified_caller_id: b });
    expect(await read(va.id)).toMatchObject({ status: "pending", attempts_remaining: 5 });
  });

  it("never gives one phone the same shared number twice while its first verification waits", async () => {
    const phone = "+447400140021";
    await start({ phone, workflow: [{ channel: "reverse_flashcall" }] });
    const res = await t.app.inject({
      method: "POST",
      url: "/v1/verifications",
      headers: auth(),
      payload: { phone, workflow: [{ channel: "reverse_flashcall" }] },
    });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe("NO_INBOUND_NUMBER");
  });

  it("is a step anywhere in a workflow: after SMS, on 'use another channel'", async () => {
    const phone = "+447400140031";
    const started = await start({ phone, workflow: [{ channel: "sms" }, { channel: "reverse_flashcall" }] });
    expect(started.reverse_flashcall).toBeNull();
    const next = await t.app.inject({ method: "POST", url: `/v1/verifications/${started.id}/next`, headers: auth() });
    expect(next.statusCode, next.body).toBe(200);
    expect(next.json()).toMatchObject({ channel: "reverse_flashcall", reverse_flashcall: { dial: SHARED } });
    await dial(phone, SHARED);
    expect(await read(started.id)).toMatchObject({ status: "verified", channel: "reverse_flashcall" });
  });

  it("verifies once when the phone's calls arrive at the same instant, and holds the per-caller limit", async () => {
    const phone = "+447400140041";
    const started = await start({ phone, workflow: [{ channel: "reverse_flashcall" }] });
    const limited = await metric("limited");
    const answers = await Promise.all(Array.from({ length: 8 }, () => dial(phone, SHARED)));
    expect(answers.map((a) => a.sip_code)).toEqual(Array(8).fill(603));
    // caller=4/10m: four calls were looked at, four refused unmatched, whatever their order.
    expect(await metric("limited")).toBe(limited + 4);
    expect(await read(started.id)).toMatchObject({ status: "verified" });
    const verified = (await events(started.id)).filter((e) => e.type === "verification.verified");
    expect(verified).toHaveLength(1);
  });
});

describe("reverse flash call across a restart", () => {
  it("keeps a waiting verification's number its own, and the call after the restart verifies it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "flashverify-reverse-restart-"));
    const env = { DATABASE_URL: `sqlite:${join(dir, "flashverify.db")}`, INBOUND_NUMBERS: SHARED };
    const phone = "+447400140051";
    try {
      const first = await createTestApp(env);
      const res = await first.app.inject({
        method: "POST",
        url: "/v1/verifications",
        headers: auth(),
        payload: { phone, workflow: [{ channel: "reverse_flashcall" }] },
      });
      const started = res.json();
      await first.close();

      const second = await createTestApp(env);
      try {
        const again = await second.app.inject({
          method: "POST",
          url: "/v1/verifications",
          headers: auth(),
          payload: { phone, workflow: [{ channel: "reverse_flashcall" }] },
        });
        expect(again.json().error?.code).toBe("NO_INBOUND_NUMBER");
        const call = await second.app.inject({
          method: "POST",
          url: `/sandbox/phones/${encodeURIComponent(phone)}/calls`,
          payload: { to: SHARED },
        });
        expect(call.json().sip_code).toBe(603);
        const read = await second.app.inject({
          method: "GET",
          url: `/v1/verifications/${started.id}`,
          headers: auth(),
        });
        expect(read.json()).toMatchObject({ status: "verified", verified_caller_id: phone });
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
