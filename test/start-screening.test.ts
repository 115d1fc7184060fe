/**
 * Every route that starts verifications screens its starts as POST /v1/verifications does: the Sinch-compatible
 * start and the demo's see the client's country from the trusted proxy's header (so the risk score's
 * ip_country_mismatch applies whichever API a start came through), and drop a start that waited past
 * START_QUEUE_DEADLINE_MS before anything is sent.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auth, createTestApp, type TestApp } from "./support/test-app.js";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read field by field and asserted, not trusted
type Json = Record<string, any>;

let t: TestApp;
let basic: string;

beforeAll(async () => {
  t = await createTestApp({
    FRAUD_IP_COUNTRY_HEADER: "cf-ipcountry",
    FRAUD_RISK_BLOCK_SCORE: "0.3",
    START_QUEUE_DEADLINE_MS: "1000",
  });
  const pair = (
    await t.app.inject({ method: "POST", url: "/v1/api-keys", headers: auth(), payload: { kind: "sinch" } })
  ).json();
  basic = `Basic ${Buffer.from(`${pair.application_key}:${pair.application_secret}`).toString("base64")}`;
});
afterAll(() => t.close());

const calls = (phone: string) => t.services.sandbox?.handsets.calls(phone) ?? [];

const sinchStart = (endpoint: string, headers: Json = {}) =>
  t.app.inject({
    method: "POST",
    url: "/verification/v1/verifications",
    headers: { authorization: basic, "content-type": "application/json", ...headers },
    payload: JSON.stringify({ identity: { type: "number", endpoint }, method: "flashcall" }),
  });

const demoStart = (phone: string, headers: Json = {}) =>
  t.app.inject({ method: "POST", url: "/demo/api/verifications", headers, payload: { phone, fallback: "sms" } });

describe("the Sinch-compatible start", () => {
  it("takes the client's country from the proxy's header, as the risk score needs", async () => {
    const refused = await sinchStart("+447400160001", { "cf-ipcountry": "NG" });
    expect(refused.statusCode, refused.body).toBe(403);
    expect(refused.json()).toMatchObject({ errorCode: 40300 });
    expect(calls("+447400160001")).toEqual([]);
    // The same start from the number's own country goes ahead.
    const started = await sinchStart("+447400160002", { "cf-ipcountry": "GB" });
    expect(started.statusCode, started.body).toBe(200);
  });

  it("drops a start that waited past the queue deadline, before anything is sent", async () => {
    const stale = await sinchStart("+447400160003", { "x-request-start": `t=${Date.now() - 5000}` });
    expect(stale.statusCode, stale.body).toBe(503);
    expect(stale.json()).toMatchObject({ errorCode: 50300 });
    expect(calls("+447400160003")).toEqual([]);
  });
});

describe("the demo's start", () => {
  it("takes the client's country from the proxy's header", async () => {
    const refused = await demoStart("+447400160011", { "cf-ipcountry": "NG" });
    expect(refused.statusCode, refused.body).toBe(403);
    expect(refused.json().error).toMatchObject({ code: "VERIFICATION_BLOCKED" });
    expect(calls("+447400160011")).toEqual([]);
    expect((await demoStart("+447400160012", { "cf-ipcountry": "GB" })).statusCode).toBe(201);
  });
});
