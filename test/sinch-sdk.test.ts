/**
 * The Sinch-compatible Verification API driven by Sinch's own Node SDK (@sinch/verification), unchanged but for
 * `verificationHostname`: flash calls placed for real through the sandbox's SIP handsets, the caller ID reported
 * being the one the handset saw; SMS through its SMSC. Signed requests (the SDK's default) and Basic (the SDK's own
 * Basic plugin in place of its signing one).
 */
import type { AddressInfo } from "node:net";
import { BasicAuthenticationRequest, RequestFailedError, VerificationService } from "@sinch/verification";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sinchSignature } from "../src/events/sinch-signature.js";
import { auth, createTestApp, eventually, TEST_KEY, type TestApp } from "./support/test-app.js";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read field by field and asserted, not trusted
type Json = Record<string, any>;

let t: TestApp;
let hostname: string;
let pair: { application_key: string; application_secret: string };

beforeAll(async () => {
  t = await createTestApp({ SANDBOX_SIP_ADDRESS: "127.0.0.151" });
  await t.app.listen({ host: "127.0.0.150", port: 0 });
  hostname = `http://127.0.0.150:${(t.app.server.address() as AddressInfo).port}`;
  const res = await t.app.inject({ method: "POST", url: "/v1/api-keys", headers: auth(), payload: { kind: "sinch" } });
  expect(res.statusCode, res.body).toBe(201);
  pair = res.json();
});
afterAll(() => t.close());

const signed = () =>
  new VerificationService({
    applicationKey: pair.application_key,
    applicationSecret: pair.application_secret,
    verificationHostname: hostname,
  });

/** The SDK with its own Basic plugin in place of its signing one. */
function basic(secret = pair.application_secret): VerificationService {
  const sdk = new VerificationService({
    applicationKey: pair.application_key,
    applicationSecret: secret,
    verificationHostname: hostname,
  });
  const options = sdk.verifications.client.apiClientOptions;
  options.requestPlugins = [new BasicAuthenticationRequest(pair.application_key, secret)];
  return sdk;
}

/** The caller ID of the newest missed call on the virtual handset. */
const missedCall = (phone: string): Promise<string> =>
  eventually(async () => {
    const res = await t.app.inject({ url: `/sandbox/phones/${encodeURIComponent(phone)}` });
    return (res.json().calls as Json[])[0]?.from as string | undefined;
  });

const smsCode = (phone: string): Promise<string> =>
  eventually(async () => {
    const res = await t.app.inject({ url: `/sandbox/phones/${encodeURIComponent(phone)}` });
    const message = (res.json().messages as Json[]).find((m) => m.channel === "sms");
    return message?.text.match(/\b(\d{6})\b/)?.[1] as string | undefined;
  });

async function sdkError(promise: Promise<unknown>): Promise<{ statusCode: number; data: Json }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RequestFailedError);
  const failed = error as RequestFailedError<unknown>;
  return { statusCode: failed.statusCode, data: JSON.parse(failed.data as string) };
}

describe.each([
  ["signed", signed],
  ["Basic", () => basic()],
])("the Sinch SDK with %s authentication", (scheme, sdk) => {
  const n = scheme === "signed" ? 1 : 2;

  it("starts a flash call, reports the caller ID the handset saw by id, and reads its status three ways", async () => {
    const phone = `+4474001500${n}1`;
    const reference = `sinch-${scheme}-${Date.now()}`;
    const started = await sdk().verifications.startFlashCall({
      startVerificationWithFlashCallRequestBody: {
        identity: { type: "number", endpoint: phone },
        reference,
        custom: "order 17",
        flashCallOptions: { interceptionTimeout: 45 },
      },
    });
    expect(started).toMatchObject({ method: "flashcall", flashCall: { interceptionTimeout: 45 } });
    const id = started.id as string;
    const cli = await missedCall(phone);
    // The filter matches the caller ID, and as well any other code digits: it names none of them.
    const filter = new RegExp(started.flashCall?.cliFilter as string);
    const codeLength = t.services.config.POOL_CODE_LENGTH;
    const otherCode = [...cli.slice(-codeLength)].map((d) => String((Number(d) + 5) % 10)).join("");
    expect(cli).toMatch(filter);
    expect(cli.slice(0, -codeLength) + otherCode).toMatch(filter);

    const pending = await sdk().verificationStatus.getById({ id });
    expect(pending).toMatchObject({ id, method: "flashcall", status: "PENDING", reference });

    const reported = await sdk().verifications.reportFlashCallById({
      id,
      reportFlashCallVerificationByIdRequestBody: { flashCall: { cli } },
    });
    expect(reported).toMatchObject({ id, method: "flashcall", status: "SUCCESSFUL", reference });

    const byId = await sdk().verificationStatus.getById({ id });
    expect(byId).toMatchObject({
      id,
      status: "SUCCESSFUL",
      identity: { type: "number", endpoint: phone },
      countryId: "GB",
      custom: "order 17",
    });
    const byIdentity = await sdk().verificationStatus.getByIdentity({ method: "flashcall", endpoint: phone });
    expect(byIdentity).toMatchObject({ id, status: "SUCCESSFUL" });
    const byReference = await sdk().verificationStatus.getByReference({ reference });
    expect(byReference).toMatchObject({ id, status: "SUCCESSFUL", reference });
  });

  it("reports by identity; a wrong caller ID answers FAIL and leaves it pending", async () => {
    const phone = `+4474001500${n}2`;
    const started = await sdk().verifications.startFlashCall({
      startVerificationWithFlashCallRequestBody: { identity: { type: "number", endpoint: phone } },
    });
    const cli = await missedCall(phone);
    const wrongDigit = cli.endsWith("0") ? "1" : "0";
    const wrong = await sdk().verifications.reportFlashCallByIdentity({
      endpoint: phone,
      reportFlashCallVerificationByIdentityRequestBody: { flashCall: { cli: cli.slice(0, -1) + wrongDigit } },
    });
    expect(wrong).toMatchObject({ id: started.id, status: "FAIL", reason: "Invalid CLI" });
    expect(await sdk().verificationStatus.getById({ id: started.id as string })).toMatchObject({ status: "PENDING" });
    const right = await sdk().verifications.reportFlashCallByIdentity({
      endpoint: phone,
      reportFlashCallVerificationByIdentityRequestBody: { flashCall: { cli } },
    });
    expect(right).toMatchObject({ id: started.id, status: "SUCCESSFUL" });
  });

  it("starts an SMS verification and reports its code", async () => {
    const phone = `+4474001500${n}3`;
    const started = await sdk().verifications.startSms({
      startVerificationWithSmsRequestBody: { identity: { type: "number", endpoint: phone } },
    });
    expect(started).toMatchObject({ method: "sms" });
    expect(started.sms?.template).toContain("{{CODE}}");
    const code = await smsCode(phone);
    const reported = await sdk().verifications.reportSmsById({
      id: started.id as string,
      reportSmsVerificationByIdRequestBody: { sms: { code } },
    });
    expect(reported).toMatchObject({ id: started.id, method: "sms", status: "SUCCESSFUL" });
  });

  it("answers an unknown reference with the SDK's error type and Sinch's code", async () => {
    const { statusCode, data } = await sdkError(sdk().verificationStatus.getByReference({ reference: "no-such-ref" }));
    expect(statusCode).toBe(404);
    // Sinch's error object (the SDK's VerificationError): status, errorCode, message, reference.
    expect(data).toMatchObject({ status: "404 Not Found", errorCode: 40400, message: "No such verification." });
    expect(typeof data.reference).toBe("string");
  });
});

describe("refusals", () => {
  it("refuses a wrong secret, signed and Basic, with 40100", async () => {
    const wrongSecret = Buffer.alloc(32, 7).toString("base64");
    const wrongSigned = new VerificationService({
      applicationKey: pair.application_key,
      applicationSecret: wrongSecret,
      verificationHostname: hostname,
    });
    for (const sdk of [wrongSigned, basic(wrongSecret)]) {
      const { statusCode, data } = await sdkError(
        sdk.verifications.startFlashCall({
          startVerificationWithFlashCallRequestBody: { identity: { type: "number", endpoint: "+447400150099" } },
        }),
      );
      expect(statusCode).toBe(401);
      expect(data.errorCode).toBe(40100);
    }
    const calls = (await t.app.inject({ url: "/sandbox/phones/%2B447400150099" })).json().calls;
    expect(calls).toEqual([]);
  });

  it("refuses a replayed signed request and one outside the 15-minute window", async () => {
    const send = (timestamp: string, body: string) => {
      const path = "/verification/v1/verifications";
      const signature = sinchSignature(pair.application_secret, {
        method: "POST",
        body,
        contentType: "application/json",
        timestamp,
        path,
      });
      return fetch(hostname + path, {
        method: "POST",
        body,
        headers: {
          "content-type": "application/json",
          "x-timestamp": timestamp,
          authorization: `Application ${pair.application_key}:${signature}`,
        },
      });
    };
    const body = JSON.stringify({ identity: { type: "number", endpoint: "+447400150098" }, method: "flashcall" });
    const now = new Date().toISOString();
    expect((await send(now, body)).status).toBe(200);
    const replay = await send(now, body);
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as Json).errorCode).toBe(40100);
    const stale = await send(new Date(Date.now() - 16 * 60_000).toISOString(), body);
    expect(stale.status).toBe(401);
  });

  it("accepts `flashcall` as Sinch's Android SDK writes the report, and answers bad input in Sinch's shape", async () => {
    const phone = "+447400150097";
    const started = await signed().verifications.startFlashCall({
      startVerificationWithFlashCallRequestBody: { identity: { type: "number", endpoint: phone } },
    });
    const cli = await missedCall(phone);
    const credentials = `Basic ${Buffer.from(`${pair.application_key}:${pair.application_secret}`).toString("base64")}`;
    const put = (payload: Json) =>
      fetch(`${hostname}/verification/v1/verifications/id/${started.id}`, {
        method: "PUT",
        body: JSON.stringify(payload),
        headers: { "content-type": "application/json", authorization: credentials },
      });
    const bad = await put({ method: "flashcall" });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ status: "400 Bad Request", errorCode: 40001 });
    const ok = await put({ method: "flashcall", flashcall: { cli } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ status: "SUCCESSFUL" });
  });

  it("checks credentials before it reads the body, and bad bodies change nothing", async () => {
    const before = (await t.app.inject({ url: "/v1/verifications?limit=100", headers: auth() })).json().data.length;
    const post = (body: string, authorization?: string) =>
      fetch(`${hostname}/verification/v1/verifications`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
      });
    const credentials = `Basic ${Buffer.from(`${pair.application_key}:${pair.application_secret}`).toString("base64")}`;
    const anonymous = await post("{not json");
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as Json).errorCode).toBe(40100);
    const bearer = await post("{}", `Bearer ${TEST_KEY}`);
    expect(bearer.status).toBe(401);
    const broken = await post("{not json", credentials);
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as Json).errorCode).toBe(40001);
    const badNumber = await post(
      JSON.stringify({ identity: { type: "number", endpoint: "12" }, method: "sms" }),
      credentials,
    );
    expect(((await badNumber.json()) as Json).errorCode).toBe(40001);
    const huge = await post(JSON.stringify({ custom: "x".repeat(20_000) }), credentials);
    expect(huge.status).toBe(413);
    const after = (await t.app.inject({ url: "/v1/verifications?limit=100", headers: auth() })).json().data.length;
    expect(after).toBe(before);
  });

  it("lists a Sinch pair without its secret, and a revoked pair stops working", async () => {
    const made = (
      await t.app.inject({
        method: "POST",
        url: "/v1/api-keys",
        headers: auth(),
        payload: { kind: "sinch", label: "old" },
      })
    ).json();
    const listed = (await t.app.inject({ url: "/v1/api-keys", headers: auth() })).json().data as Json[];
    expect(listed.find((k) => k.id === made.id)).toEqual({
      id: made.id,
      label: "old",
      created_at: made.created_at,
      revoked_at: null,
      kind: "sinch",
      application_key: made.application_key,
    });
    expect(JSON.stringify(listed)).not.toContain(made.application_secret);
    const old = new VerificationService({
      applicationKey: made.application_key,
      applicationSecret: made.application_secret,
      verificationHostname: hostname,
    });
    const status = () => old.verificationStatus.getByReference({ reference: "no-such-ref" });
    expect((await sdkError(status())).statusCode).toBe(404);
    const revoked = await t.app.inject({ method: "DELETE", url: `/v1/api-keys/${made.id}`, headers: auth() });
    expect(revoked.statusCode).toBe(204);
    expect((await sdkError(status())).data).toMatchObject({ errorCode: 40100 });
    const again = await t.app.inject({ method: "DELETE", url: `/v1/api-keys/${made.id}`, headers: auth() });
    expect(again.statusCode).toBe(404);
  });

  it("starts callout as a voice OTP call, which the virtual phone answers", async () => {
    const started = await signed().verifications.startPhoneCall({
      startVerificationWithPhoneCallRequestBody: { identity: { type: "number", endpoint: "+447400150096" } },
    });
    expect(started).toMatchObject({ method: "callout" });
    const ours = (await t.app.inject({ url: `/v1/verifications/${started.id}`, headers: auth() })).json();
    expect(ours.workflow.map((step: Json) => step.channel)).toEqual(["voice"]);
    await eventually(async () => {
      const phone = await t.app.inject({ url: "/sandbox/phones/%2B447400150096" });
      return (phone.json().calls as Json[]).some((call) => call.result === "answered") ? true : undefined;
    }, 15_000);
  });
});
