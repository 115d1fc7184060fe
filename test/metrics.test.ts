/** GET /metrics: Prometheus text, with what the verifications, attempts and HTTP requests did. */
import { afterAll, beforeAll, expect, it } from "vitest";
import { auth, createTestApp, eventually, type TestApp } from "./support/test-app.js";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const start = (phone: string) =>
  t.app.inject({ method: "POST", url: "/v1/verifications", headers: auth(), payload: { phone } });

it("counts verifications, attempts, SIP finals and requests from what was committed", async () => {
  const ok = (await start("+447400200001")).json();
  const cli = await eventually(() => {
    const call = t.services.sandbox?.handsets.calls("+447400200001")[0];
    return call?.result === "missed" ? call.from : undefined;
  });
  const checked = await t.app.inject({
    method: "POST",
    url: `/v1/verifications/${ok.id}/check`,
    headers: auth(),
    payload: { caller_id: cli },
  });
  expect(checked.json().status).toBe("verified");
  const busy = (await start("+447400200486")).json();
  await eventually(async () => {
    const v = await t.app.inject({ method: "GET", url: `/v1/verifications/${busy.id}`, headers: auth() });
    return v.json().status === "failed" ? true : undefined;
  });

  const res = await t.app.inject({ method: "GET", url: "/metrics" });
  expect(res.statusCode).toBe(200);
  expect(res.headers["content-type"]).toContain("text/plain");
  const text = res.body;
  for (const line of [
    'flashverify_verifications_started_total{channel="flashcall"} 2',
    'flashverify_verifications_ended_total{status="verified",reason=""} 1',
    'flashverify_verifications_ended_total{status="failed",reason="attempt_failed"} 1',
    'flashverify_attempts_ended_total{channel="flashcall",outcome="failed",reason="busy"} 1',
    'flashverify_attempts_ended_total{channel="flashcall",outcome="delivered",reason="ringing_canceled"} 1',
    'flashverify_sip_final_responses_total{code="486"} 1',
    'flashverify_sip_final_responses_total{code="487"} 1',
    'flashverify_http_requests_total{method="POST",route="/v1/verifications",status="201"} 2',
  ]) {
    expect(text).toContain(line);
  }
  expect(text).toMatch(/^flashverify_process_resident_memory_bytes \d+/m);
  // Paths are counted by their pattern: no series per verification id.
  expect(text).toContain('route="/v1/verifications/:id/check"');
  expect(text).not.toContain(ok.id);
});
