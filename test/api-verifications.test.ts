/**
 * The HTTP API through `inject()`, on the real stack: SQLite, the SIP UAC and the sandbox's virtual handsets.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auth, createTestApp, eventually, type TestApp } from "./support/test-app.js";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

interface Started {
  id: string;
  client_token: string;
  flashcall: { pattern: string; code_length: number; cli_filter: string };
  [k: string]: unknown;
}

async function start(phone: string): Promise<Started> {
  const res = await t.app.inject({ method: "POST", url: "/v1/verifications", headers: auth(), payload: { phone } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/** what the handset saw: the caller ID of the newest call */
async function missedCallFrom(phone: string): Promise<string> {
  return eventually(async () => {
    const res = await t.app.inject({ method: "GET", url: `/sandbox/phones/${encodeURIComponent(phone)}` });
    const calls = res.json().calls as { from: string; result: string }[];
    return calls[0]?.result === "missed" ? calls[0].from : undefined;
  });
}

const check = (id: string, body: Record<string, unknown>, token?: string) =>
  t.app.inject({ method: "POST", url: `/v1/verifications/${id}/check`, headers: auth(token), payload: body });

describe("POST /v1/verifications", () => {
  it("starts a flash call and answers with a masked pattern, never the CLI", async () => {
    const phone = "+447400100001";
    const body = await start(phone);
    expect(body).toMatchObject({ status: "pending", phone, channel: "flashcall" });
    expect(body.id).toMatch(/^ver_/);
    expect(body.client_token).toMatch(/^ct_/);
    expect(body.flashcall.pattern).toMatch(/^\+4420794\d\*{4}$/);
    expect(body.guess_probability).toBeCloseTo(3 / 10_000);
    const cli = await missedCallFrom(phone);
    expect(cli.slice(0, -4)).toBe(body.flashcall.pattern.slice(0, -4));
    expect(new RegExp(body.flashcall.cli_filter).test(cli)).toBe(true);
    expect(JSON.stringify(body)).not.toContain(cli.slice(1));
  });

  it("refuses a number it cannot read as E.164, and places no call", async () => {
    for (const phone of ["07400 100002", "+447700900123", "not a number", "+44 7400 １００００2"]) {
      const res = await t.app.inject({ method: "POST", url: "/v1/verifications", headers: auth(), payload: { phone } });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatchObject({ code: "INVALID_PHONE_NUMBER" });
      expect(res.json().error.request_id).toMatch(/^req_/);
    }
    expect(t.services.sandbox?.handsets.calls("+447400100002")).toEqual([]);
  });

  it("validates the body with a schema and names the field", async () => {
    const res = await t.app.inject({
      method: "POST",
      url: "/v1/verifications",
      headers: auth(),
      payload: { phone: "+447400100003", surprise: 1 },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("INVALID_REQUEST");
    const typed = await t.app.inject({
      method: "POST",
      url: "/v1/verifications",
      headers: auth(),
      payload: { phone: 447 },
    });
    expect(typed.json().error).toMatchObject({ code: "INVALID_REQUEST" });
    expect(typed.json().error.message).toContain("phone");
  });

  it("refuses malformed JSON and bodies over 16 KiB", async () => {
    const bad = await t.app.inject({
      method: "POST",
      url: "/v1/verifications",
      headers: { ...auth(), "content-type": "application/json" },
      payload: "{ nope",
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe("INVALID_REQUEST");
    const big = await t.app.inject({
      method: "POST",
      url: "/v1/verifications",
      headers: auth(),
      payload: { phone: "+447400100004", reference: "x".repeat(17 * 1024) },
    });
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe("PAYLOAD_TOO_LARGE");
  });
});

describe("Idempotency-Key", () => {
  const post = (key: string, payload: Record<string, unknown>) =>
    t.app.inject({
      method: "POST",
      url: "/v1/verifications",
      headers: { ...auth(), "idempotency-key": key },
      payload,
    });

  it("answers a retry with the first verification and its token, and calls only once", async () => {
    const phone = "+447400100020";
    const first = await post("retry-1", { phone, reference: "r" });
    const again = await post("retry-1", { reference: "r", phone });
    expect(again.statusCode).toBe(201);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.json().id).toBe(first.json().id);
    expect(again.json().client_token).toBe(first.json().client_token);
    expect(again.json().flashcall).toEqual(first.json().flashcall);
    await missedCallFrom(phone);
    expect(t.services.sandbox?.handsets.calls(phone)).toHaveLength(1);
  });

  it("refuses the same key with a different body, and concurrent duplicates make one verification", async () => {
    await post("retry-2", { phone: "+447400100021" });
    const conflict = await post("retry-2", { phone: "+447400100022" });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json().error.code).toBe("IDEMPOTENCY_CONFLICT");
    const burst = await Promise.all([1, 2, 3, 4].map(() => post("retry-3", { phone: "+447400100023" })));
    expect(new Set(burst.map((r) => r.json().id)).size).toBe(1);
    expect(burst.every((r) => r.statusCode === 201)).toBe(true);
  });

  it("rejects a malformed key", async () => {
    const res = await post("has space", { phone: "+447400100024" });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("INVALID_REQUEST");
  });
});

describe("authentication", () => {
  it("needs a valid key on every verification route", async () => {
    const routes = [
      { method: "POST" as const, url: "/v1/verifications", payload: { phone: "+447400100005" } },
      { method: "GET" as const, url: "/v1/verifications/ver_x" },
      { method: "POST" as const, url: "/v1/verifications/ver_x/check", payload: { code: "1234" } },
      { method: "POST" as const, url: "/v1/verifications/ver_x/cancel" },
    ];
    for (const route of routes) {
      for (const headers of [{}, auth("fv_wrong"), { authorization: "Basic abc" }]) {
        const res = await t.app.inject({ ...route, headers });
        expect(res.statusCode, `${route.method} ${route.url}`).toBe(401);
        expect(res.json().error.code).toBe("UNAUTHORIZED");
      }
    }
  });

  it("answers 401 before reading the body, so bad credentials learn nothing from validation", async () => {
    for (const payload of [{ nope: 1 }, { phone: "+447400100008", reference: "x".repeat(17 * 1024) }]) {
      const res = await t.app.inject({ method: "POST", url: "/v1/verifications", headers: auth("fv_wrong"), payload });
      expect(res.statusCode).toBe(401);
    }
    const check = await t.app.inject({ method: "POST", url: "/v1/verifications/ver_x/check", payload: { nope: 1 } });
    expect(check.statusCode).toBe(401);
  });

  it("lets a client token check and read its own verification, and nothing more", async () => {
    const phone = "+447400100006";
    const withMetadata = await t.app.inject({
      method: "POST",
      url: "/v1/verifications",
      headers: auth(),
      payload: { phone: "+447400100009", reference: "user-42", metadata: { plan: "pro" } },
    });
    const own = withMetadata.json() as Started;
    const asClient = await t.app.inject({ url: `/v1/verifications/${own.id}`, headers: auth(own.client_token) });
    expect(asClient.json()).toMatchObject({ status: "pending", reference: null, metadata: null });
    const asBackend = await t.app.inject({ url: `/v1/verifications/${own.id}`, headers: auth() });
    expect(asBackend.json()).toMatchObject({ reference: "user-42", metadata: { plan: "pro" } });
    const a = await start(phone);
    const b = await start("+447400100007");
    const read = await t.app.inject({ method: "GET", url: `/v1/verifications/${a.id}`, headers: auth(a.client_token) });
    expect(read.statusCode).toBe(200);
    const other = await t.app.inject({
      method: "GET",
      url: `/v1/verifications/${b.id}`,
      headers: auth(a.client_token),
    });
    expect(other.statusCode).toBe(401);
    const forged = await t.app.inject({ method: "GET", url: `/v1/verifications/${a.id}`, headers: auth("ct_forged") });
    expect(forged.statusCode).toBe(401);
    const startWithToken = await t.app.inject({
      method: "POST",
      url: "/v1/verifications",
      headers: auth(a.client_token),
      payload: { phone },
    });
    expect(startWithToken.statusCode).toBe(403);
    const cancel = await t.app.inject({
      method: "POST",
      url: `/v1/verifications/${a.id}/cancel`,
      headers: auth(a.client_token),
    });
    expect(cancel.statusCode).toBe(403);
    const cli = await missedCallFrom(phone);
    const checked = await check(a.id, { caller_id: cli }, a.client_token);
    expect(checked.json()).toEqual({ id: a.id, status: "verified", attempts_remaining: 0 });
  });
});

describe("check", () => {
  it("verifies a number end to end: start, missed call on the handset, check its caller ID", async () => {
    const phone = "+447400100010";
    const s = await start(phone);
    const pending = await t.app.inject({ method: "GET", url: `/v1/verifications/${s.id}`, headers: auth() });
    const cli = await missedCallFrom(phone);
    expect(pending.body).not.toContain(cli.slice(1));
    const res = await check(s.id, { caller_id: cli });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ id: s.id, status: "verified", attempts_remaining: 0 });
    // The handset shows "missed" as soon as the CANCEL reaches it; the attempt records the call's end when the
    // 487 comes back, which may be just after the check.
    const after = await eventually(async () => {
      const res = await t.app.inject({ method: "GET", url: `/v1/verifications/${s.id}`, headers: auth() });
      const view = res.json() as { attempts: { status: string }[] };
      return view.attempts[0]?.status === "ringing" ? undefined : view;
    });
    expect(after).toMatchObject({ status: "verified", verified_caller_id: cli });
    expect(after.attempts[0]).toMatchObject({ channel: "flashcall", status: "delivered" });
    const again = await check(s.id, { caller_id: cli });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe("ALREADY_VERIFIED");
  });

  it("counts wrong codes down, then fails, and the right code no longer verifies", async () => {
    const phone = "+447400100011";
    const s = await start(phone);
    const cli = await missedCallFrom(phone);
    const right = cli.slice(-4);
    const wrong = right === "0000" ? "1111" : "0000";
    expect((await check(s.id, { code: wrong })).json()).toMatchObject({ status: "pending", attempts_remaining: 2 });
    expect((await check(s.id, { code: wrong })).json()).toMatchObject({ status: "pending", attempts_remaining: 1 });
    expect((await check(s.id, { code: wrong })).json()).toMatchObject({ status: "failed", attempts_remaining: 0 });
    expect((await check(s.id, { code: right })).json()).toMatchObject({ status: "failed", attempts_remaining: 0 });
  });

  it("answers a malformed code with 400 without spending a check", async () => {
    const s = await start("+447400100012");
    for (const body of [{ code: "١٢٣٤" }, { code: "12a4" }, {}, { code: "1234", caller_id: "+442079400000" }]) {
      const res = await check(s.id, body);
      expect(res.statusCode).toBe(400);
      expect(["INVALID_CODE_FORMAT", "INVALID_REQUEST"]).toContain(res.json().error.code);
    }
    const v = await t.app.inject({ method: "GET", url: `/v1/verifications/${s.id}`, headers: auth() });
    expect(v.json().attempts_remaining).toBe(3);
  });

  it("answers 404 for an unknown verification", async () => {
    const res = await check("ver_00000000000000000000000000", { code: "1234" });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe("VERIFICATION_NOT_FOUND");
  });

  it("cancels a pending verification, after which checks answer canceled", async () => {
    const phone = "+447400100013";
    const s = await start(phone);
    const cli = await missedCallFrom(phone);
    const res = await t.app.inject({ method: "POST", url: `/v1/verifications/${s.id}/cancel`, headers: auth() });
    expect(res.json()).toMatchObject({ status: "canceled", reason: "canceled_by_api" });
    expect((await check(s.id, { caller_id: cli })).json()).toMatchObject({ status: "canceled" });
    const twice = await t.app.inject({ method: "POST", url: `/v1/verifications/${s.id}/cancel`, headers: auth() });
    expect(twice.statusCode).toBe(409);
  });
});

describe("sandbox test numbers", () => {
  it.each([
    ["+447400120486", "busy", 486],
    ["+447400120404", "not_found", 404],
    ["+447400120408", "timeout", null],
  ])("%s fails the verification with reason %s", async (phone, reason, sipCode) => {
    const s = await start(phone);
    const v = await eventually(async () => {
      const res = await t.app.inject({ method: "GET", url: `/v1/verifications/${s.id}`, headers: auth() });
      const body = res.json() as { status: string; attempts: unknown[] };
      return body.status === "pending" ? undefined : body;
    });
    expect(v).toMatchObject({ status: "failed", reason: "attempt_failed" });
    // The sandbox is one trunk of the trunk layer, and the attempt says it carried the call.
    expect(v.attempts[0]).toMatchObject({ status: "failed", reason, sip_code: sipCode, trunk: "sandbox" });
  });

  it("+447400120200 answers: the caller ID was still shown and the number verifies", async () => {
    const phone = "+447400120200";
    const s = await start(phone);
    const from = await eventually(async () => {
      const res = await t.app.inject({ method: "GET", url: `/sandbox/phones/${phone}` });
      const call = res.json().calls[0];
      return call?.result === "answered" ? (call.from as string) : undefined;
    });
    const attempt = await eventually(async () => {
      const res = await t.app.inject({ method: "GET", url: `/v1/verifications/${s.id}`, headers: auth() });
      return res.json().attempts[0].ended_at ? res.json().attempts[0] : undefined;
    });
    expect(attempt).toMatchObject({ status: "delivered", reason: "answered", sip_code: 200 });
    expect((await check(s.id, { caller_id: from })).json().status).toBe("verified");
  });
});

describe("service routes", () => {
  it("serves health, readiness, the OpenAPI document and its docs", async () => {
    expect((await t.app.inject({ url: "/healthz" })).json()).toEqual({ status: "ok" });
    expect((await t.app.inject({ url: "/readyz" })).json()).toEqual({ status: "ready" });
    const doc = (await t.app.inject({ url: "/openapi.json" })).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/v1/verifications", "/v1/verifications/{id}/check", "/v1/verifications/{id}"]),
    );
    expect((await t.app.inject({ url: "/docs" })).statusCode).toBeLessThan(400);
    const missing = await t.app.inject({ url: "/nope" });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe("NOT_FOUND");
  });

  it("names every answer's request in X-Request-Id, the id its error body carries", async () => {
    const ok = await t.app.inject({ url: "/healthz" });
    const invalid = await t.app.inject({ method: "POST", url: "/v1/verifications", headers: auth(), payload: {} });
    const malformed = await t.app.inject({ url: `/v1/verifications/${"x".repeat(200)}`, headers: auth() });
    const ids = [ok, invalid, malformed].map((res) => res.headers["x-request-id"]);
    for (const id of ids) expect(id).toMatch(/^req_[\w-]+$/);
    expect(new Set(ids).size).toBe(3);
    expect(invalid.json().error.request_id).toBe(ids[1]);
    expect(malformed.json().error.request_id).toBe(ids[2]);
  });
});
