/**
 * Through the Sinch API, everything our own API enforces applies: the start rate limits, the number policy and a
 * number's failure budget, each answered in Sinch's shape. Driven with Sinch's SDK.
 */
import type { AddressInfo } from "node:net";
import { RequestFailedError, VerificationService } from "@sinch/verification";
import { afterAll, beforeAll, expect, it } from "vitest";
import { auth, createTestApp, eventually, type TestApp } from "./support/test-app.js";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read field by field and asserted, not trusted
type Json = Record<string, any>;

let t: TestApp;
let sdk: VerificationService;

beforeAll(async () => {
  t = await createTestApp({
    SANDBOX_SIP_ADDRESS: "127.0.0.156",
    FRAUD_START_LIMITS: "destination=2/10m,prefix=10000/1m,ip=10000/1m,device=10000/1m",
    FRAUD_CHECK_FAILURES: "2/24h",
  });
  await t.app.listen({ host: "127.0.0.155", port: 0 });
  const pair = (
    await t.app.inject({ method: "POST", url: "/v1/api-keys", headers: auth(), payload: { kind: "sinch" } })
  ).json();
  sdk = new VerificationService({
    applicationKey: pair.application_key,
    applicationSecret: pair.application_secret,
    verificationHostname: `http://127.0.0.155:${(t.app.server.address() as AddressInfo).port}`,
  });
});
afterAll(() => t.close());

async function refusal(promise: Promise<unknown>): Promise<{ status: number; body: Json; headers: Json }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RequestFailedError);
  const failed = error as RequestFailedError<unknown>;
  return { status: failed.statusCode, body: JSON.parse(failed.data as string), headers: failed.responseHeaders ?? {} };
}

const startSms = (endpoint: string) =>
  sdk.verifications.startSms({ startVerificationWithSmsRequestBody: { identity: { type: "number", endpoint } } });
const startFlashCall = (endpoint: string) =>
  sdk.verifications.startFlashCall({
    startVerificationWithFlashCallRequestBody: { identity: { type: "number", endpoint } },
  });

it("applies the start rate limits", async () => {
  await startSms("+447400150201");
  await startSms("+447400150201");
  const refused = await refusal(startSms("+447400150201"));
  expect(refused.status).toBe(429);
  expect(refused.body).toMatchObject({ errorCode: 42900 });
  expect(Number(refused.headers["retry-after"])).toBeGreaterThan(500);
});

it("applies the number policy", async () => {
  const landline = await refusal(startFlashCall("+442079460000"));
  expect(landline).toMatchObject({ status: 422, body: { errorCode: 42200 } });
  expect((await t.app.inject({ url: "/sandbox/phones/%2B442079460000" })).json().calls).toEqual([]);
});

it("spends a number's failure budget on wrong reports: then even the right code fails, and starts are refused", async () => {
  const phone = "+447400150203";
  const started = await startSms(phone);
  const code = await eventually(async () => {
    const res = await t.app.inject({ url: `/sandbox/phones/${encodeURIComponent(phone)}` });
    return ((res.json().messages as Json[])[0]?.text as string | undefined)?.match(/\b(\d{6})\b/)?.[1];
  });
  const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, "0");
  const report = (c: string) =>
    sdk.verifications.reportSmsById({
      id: started.id as string,
      reportSmsVerificationByIdRequestBody: { sms: { code: c } },
    });
  expect(await report(wrong)).toMatchObject({ status: "FAIL", reason: "Invalid code" });
  expect(await report(wrong)).toMatchObject({ status: "FAIL", reason: "Invalid code" });
  expect(await report(code)).toMatchObject({ status: "FAIL" });
  const refused = await refusal(startSms(phone));
  expect(refused).toMatchObject({ status: 429, body: { errorCode: 42900 } });
});
