/**
 * This wave's endpoints against another tenant and another verification's token: a report on a verification with
 * the client token of a different one, or with another application's key; another application's review numbers
 * (removing them, or a start to the phone from the other application using them); unknown fields. Each is refused
 * with the error table's answer and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auth, createTestApp, eventually, TEST_KEY, type TestApp } from "./support/test-app.js";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read field by field and asserted, not trusted
type Json = Record<string, any>;

let t: TestApp;
let otherKey: string;
beforeAll(async () => {
  t = await createTestApp({ SANDBOX_SIP_ADDRESS: "127.0.26.60", SIP_LOCAL_ADDRESS: "127.0.26.60" });
  const created = await t.app.inject({
    method: "POST",
    url: "/v1/applications",
    headers: auth(),
    payload: { name: "other tenant" },
  });
  expect(created.statusCode).toBe(201);
  otherKey = created.json().api_key.key;
});
afterAll(async () => {
  await t?.close();
});

const inject = (method: "GET" | "POST" | "DELETE", url: string, token: string, payload?: Json) =>
  t.app.inject({ method, url, headers: auth(token), ...(payload ? { payload } : {}) });

const REPORT = { flashcall: { outcome: "not_received", source: "call_log" } };

async function delivered(phone: string): Promise<Json> {
  const started = (await inject("POST", "/v1/verifications", TEST_KEY, { phone })).json();
  await eventually(async () => {
    const v = (await inject("GET", `/v1/verifications/${started.id}`, TEST_KEY)).json();
    return v.attempts[0].status === "delivered" ? v : undefined;
  }, 15_000);
  return started;
}

describe("cross-tenant and cross-verification attacks on this wave's endpoints", () => {
  it("refuses a report with another verification's client token or another application's key", async () => {
    const victim = await delivered("+447400126401");
    const attacker = await delivered("+447400126402");
    const withToken = await inject("POST", `/v1/verifications/${victim.id}/report`, attacker.client_token, REPORT);
    expect(withToken.statusCode).toBe(401);
    expect(withToken.json().error.code).toBe("UNAUTHORIZED");
    const withKey = await inject("POST", `/v1/verifications/${victim.id}/report`, otherKey, REPORT);
    expect(withKey.statusCode).toBe(404);
    expect(withKey.json().error.code).toBe("VERIFICATION_NOT_FOUND");
    const extra = await inject("POST", `/v1/verifications/${victim.id}/report`, victim.client_token, {
      flashcall: { ...REPORT.flashcall, verified: true },
    });
    expect(extra.statusCode).toBe(400);
    const read = (await inject("GET", `/v1/verifications/${victim.id}`, TEST_KEY)).json();
    expect(read.attempts[0].phone_report).toBeNull();
    expect(read.status).toBe("pending");
  });

  it("keeps review numbers to the application that added them", async () => {
    const phone = "+447400126403";
    const added = await inject("POST", "/v1/review-numbers", TEST_KEY, { phone, code: "482916" });
    expect(added.statusCode).toBe(201);
    const id = added.json().id as string;
    expect((await inject("GET", "/v1/review-numbers", otherKey)).json().data).toEqual([]);
    const removed = await inject("DELETE", `/v1/review-numbers/${id}`, otherKey);
    expect(removed.statusCode).toBe(404);
    expect(removed.json().error.code).toBe("REVIEW_NUMBER_NOT_FOUND");
    // The other application's start to the phone is an ordinary one: no review number, and the code does not verify.
    const started = (
      await inject("POST", "/v1/verifications", otherKey, { phone, workflow: [{ channel: "sms" }] })
    ).json();
    expect(started.verification.review_number_id).toBeNull();
    const checked = await inject("POST", `/v1/verifications/${started.id}/check`, otherKey, { code: "482916" });
    expect(checked.json().status).not.toBe("verified");
    expect((await inject("GET", "/v1/review-numbers", TEST_KEY)).json().data).toMatchObject([{ id, removed_at: null }]);
    const unknown = await inject("POST", "/v1/review-numbers", TEST_KEY, { phone, code: "1234", owner: "x" });
    expect(unknown.statusCode).toBe(400);
  });

  it("shows the delivery measurement, which counts every application's calls, to the operator's keys only", async () => {
    await delivered("+447400126404");
    const operator = (await inject("GET", "/v1/stats", TEST_KEY)).json();
    expect(operator.delivery.networks.length).toBeGreaterThan(0);
    const other = await inject("GET", "/v1/stats", otherKey);
    expect(other.statusCode).toBe(200);
    expect(other.json().delivery).toBeNull();
  });
});
