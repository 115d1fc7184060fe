/**
 * Refused starts leave a record: the start is answered with its refusal as before, and the refusal is kept as a verification ended `failed` with reason `refused`, its code, message and details (the risk
 * factors, the limit, the block), with its events, listed like any other, and never holding a code or caller ID.
 * The request's log line names the code.
 */
import { Writable } from "node:stream";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../src/api/app.js";
import { auth, createTestApp, type TestApp } from "./support/test-app.js";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read field by field and asserted, not trusted
type Json = Record<string, any>;

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({
    SANDBOX_SIP_ADDRESS: "127.0.0.128",
    FRAUD_START_LIMITS: "destination=1/10m,prefix=10000/1m,ip=10000/1m,device=10000/1m",
    // A device never seen verifying (0.1) from an IP in another country than the number (0.3) is blocked here.
    FRAUD_IP_COUNTRY_HEADER: "x-ip-country",
    FRAUD_RISK_CHALLENGE_SCORE: "0.3",
    FRAUD_RISK_BLOCK_SCORE: "0.35",
  });
});
afterAll(() => t.close());

/** The newest verification of the application: a refused start's record, right after it was refused. */
const newest = async (): Promise<Json> => (await request("GET", "/v1/verifications?limit=1")).body.data[0];

const request = async (method: "GET" | "POST" | "DELETE", url: string, payload?: Json, headers: Json = {}) => {
  const res = await t.app.inject({ method, url, headers: { ...auth(), ...headers }, ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: (res.body ? res.json() : {}) as Json };
};

describe("refused starts", () => {
  it("records a blocked number's refusal, with its events, in the list, without a code", async () => {
    const phone = "+447400191001";
    expect((await request("POST", "/v1/blocks", { type: "number", value: phone, reason: "abuse" })).status).toBe(201);
    const refused = await request("POST", "/v1/verifications", { phone });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: "DESTINATION_BLOCKED", details: { reason: "blocked_number" } });
    expect(refused.body.error.details.verification_id).toBeUndefined();
    const id = (await newest()).id as string;
    expect(id).toMatch(/^ver_/);

    const record = (await request("GET", `/v1/verifications/${id}`)).body;
    expect(record).toMatchObject({
      id,
      status: "failed",
      reason: "refused",
      phone,
      attempts: [],
      flashcall: null,
      verified_caller_id: null,
      refusal: { code: "DESTINATION_BLOCKED", details: { reason: "blocked_number" } },
    });
    expect(record.refusal.message).toBe(refused.body.error.message);

    const events = (await request("GET", `/v1/verifications/${id}/events`)).body.data as Json[];
    expect(events.map((e) => e.type)).toEqual(["verification.started", "verification.blocked"]);
    expect(events[1]?.data).toMatchObject({ reason: "refused", code: "DESTINATION_BLOCKED" });
    expect(JSON.stringify(events)).not.toMatch(/pattern|caller_id|code_length/);

    const listed = (await request("GET", "/v1/verifications?status=failed")).body.data as Json[];
    expect(listed.find((v) => v.id === id)).toMatchObject({
      reason: "refused",
      refusal: { code: "DESTINATION_BLOCKED" },
    });
    // Nothing went to the handset.
    expect(t.services.sandbox?.handsets.calls(phone)).toEqual([]);
  });

  it("records the risk factors of a risk block and the limit of a rate limit", async () => {
    const risky = await request(
      "POST",
      "/v1/verifications",
      { phone: "+447400191002", client: { device_id: "never-seen-device" } },
      { "x-ip-country": "FR" },
    );
    expect(risky.status).toBe(403);
    expect(risky.body.error.code).toBe("VERIFICATION_BLOCKED");
    const riskRecord = await newest();
    expect(riskRecord.refusal.code).toBe("VERIFICATION_BLOCKED");
    expect(JSON.stringify(riskRecord.refusal.details)).toContain("new_device");
    expect(JSON.stringify(riskRecord.refusal.details)).toContain("ip_country_mismatch");

    const phone = "+447400191003";
    expect((await request("POST", "/v1/verifications", { phone })).status).toBe(201);
    const limited = await request("POST", "/v1/verifications", { phone });
    expect(limited.status).toBe(429);
    const limitRecord = await newest();
    expect(limitRecord).toMatchObject({
      status: "failed",
      reason: "refused",
      refusal: { code: "RATE_LIMITED", details: { limit: "destination" } },
    });
  });

  it("keeps a refused start's Idempotency-Key free: a retry once the reason is gone is a new start", async () => {
    const phone = "+447400191004";
    const block = (await request("POST", "/v1/blocks", { type: "number", value: phone })).body;
    const key = { "idempotency-key": "refusal-retry-1" };
    const refused = await request("POST", "/v1/verifications", { phone }, key);
    expect(refused.status).toBe(403);
    const refusedId = (await newest()).id;
    expect((await request("DELETE", `/v1/blocks/${block.id}`)).status).toBe(204);
    const retried = await t.app.inject({
      method: "POST",
      url: "/v1/verifications",
      headers: { ...auth(), ...key },
      payload: { phone },
    });
    expect(retried.statusCode, retried.body).toBe(201);
    expect(retried.headers["idempotent-replayed"]).toBeUndefined();
    expect(retried.json().id).not.toBe(refusedId);
  });

  it("names the refusal's code in the request's log line", async () => {
    const lines: Json[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const app = await buildApp(t.services, { logger: pino({ level: "info" }, sink) });
    try {
      const phone = "+447400191005";
      await request("POST", "/v1/blocks", { type: "number", value: phone });
      const res = await app.inject({ method: "POST", url: "/v1/verifications", headers: auth(), payload: { phone } });
      expect(res.statusCode).toBe(403);
      const ok = await app.inject({ method: "GET", url: "/healthz" });
      expect(ok.statusCode).toBe(200);
    } finally {
      await app.close();
    }
    const logged = lines.filter((l) => l.msg === "request");
    expect(logged.find((l) => l.url === "/v1/verifications")).toMatchObject({
      status: 403,
      code: "DESTINATION_BLOCKED",
    });
    expect(logged.find((l) => l.url === "/healthz")?.code).toBeUndefined();
  });
});
