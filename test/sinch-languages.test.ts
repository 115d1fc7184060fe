/**
 * Languages through the Sinch-compatible start: `smsOptions.locale` picks the template's language as `locale` does
 * on our own start, and the start's `sms.template` is the SMS the application's template will send (with Sinch's
 * {{CODE}} where the code goes), so an app that reads the SMS by its template finds it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auth, createTestApp, eventually, type TestApp } from "./support/test-app.js";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read field by field and asserted, not trusted
type Json = Record<string, any>;

let t: TestApp;
let basic: string;

beforeAll(async () => {
  t = await createTestApp();
  const pair = (
    await t.app.inject({ method: "POST", url: "/v1/api-keys", headers: auth(), payload: { kind: "sinch" } })
  ).json();
  basic = `Basic ${Buffer.from(`${pair.application_key}:${pair.application_secret}`).toString("base64")}`;
  const saved = await t.app.inject({
    method: "PUT",
    url: "/v1/templates/sms/es",
    headers: auth(),
    payload: { body: "Tu clave de {app} es {code} ({minutes} min)", webotp_host: "acme.example" },
  });
  expect(saved.statusCode, saved.body).toBe(200);
});
afterAll(() => t.close());

const sinchStart = (payload: Json) =>
  t.app.inject({
    method: "POST",
    url: "/verification/v1/verifications",
    headers: { authorization: basic, "content-type": "application/json" },
    payload: JSON.stringify(payload),
  });

const smsOn = (phone: string) =>
  eventually(() => t.services.sandbox?.smsc.messages(phone).find((m) => m.channel === "sms")?.text);

describe("the Sinch-compatible SMS start", () => {
  it("sends in smsOptions.locale's language, and its template is the SMS that arrives", async () => {
    const phone = "+447400170001";
    const res = await sinchStart({
      identity: { type: "number", endpoint: phone },
      method: "sms",
      smsOptions: { locale: "es-ES", expiry: "00:05:00" },
    });
    expect(res.statusCode, res.body).toBe(200);
    const template = res.json().sms.template as string;
    const text = await smsOn(phone);
    expect(text).toMatch(/^Tu clave de flashverify es \d{6} \(5 min\)\n@acme\.example #\d{6}$/);
    const code = /\d{6}/.exec(text)?.[0] as string;
    expect(template).toBe(text.replaceAll(code, "{{CODE}}"));
  });

  it("without a locale, the number's country decides, as on our own start", async () => {
    const phone = "+34612345678";
    const res = await sinchStart({ identity: { type: "number", endpoint: phone }, method: "sms" });
    expect(res.statusCode, res.body).toBe(200);
    const text = await smsOn(phone);
    const code = /\d{6}/.exec(text)?.[0] as string;
    expect(res.json().sms.template).toBe(text.replaceAll(code, "{{CODE}}"));
    expect(res.json().sms.template).toContain("Tu clave");
  });

  it("refuses a locale that is no language tag, with nothing sent", async () => {
    const phone = "+447400170002";
    const res = await sinchStart({
      identity: { type: "number", endpoint: phone },
      method: "sms",
      smsOptions: { locale: "<es>" },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ errorCode: 40001 });
    expect(t.services.sandbox?.smsc.messages(phone)).toEqual([]);
  });
});
