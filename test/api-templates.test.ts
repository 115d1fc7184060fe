/**
 * /v1/templates end to end on the real stack: each send's language (locale, then the number's country, then the
 * application's default), the application's own texts, checks on save, and the SMS that reaches the sandbox's SMSC.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auth, createTestApp, eventually, type TestApp } from "./support/test-app.js";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ WORKFLOW: "sms" });
});
afterAll(() => t.close());

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read field by field and asserted, not trusted
type Json = Record<string, any>;

const request = async (method: "GET" | "PUT" | "DELETE" | "POST", url: string, payload?: Json) => {
  const res = await t.app.inject({ method, url, headers: auth(), ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: res.body ? res.json() : null };
};

/** Starts an SMS verification and returns the text the virtual handset received. */
async function smsText(phone: string, extra: Json = {}): Promise<string> {
  const started = await request("POST", "/v1/verifications", { phone, ...extra });
  expect(started.status, JSON.stringify(started.body)).toBe(201);
  return eventually(async () => {
    const res = await t.app.inject({ method: "GET", url: `/sandbox/phones/${encodeURIComponent(phone)}` });
    return (res.json().messages as Json[])[0]?.text as string | undefined;
  });
}

describe("message templates", () => {
  it("writes to a Spanish number in Spanish without a locale, and in the locale's language with one", async () => {
    expect(await smsText("+34612340001")).toMatch(/^Tu clave de flashverify es \d{6}\. Vence en \d+ min\./);
    expect(await smsText("+34612340002", { locale: "fr-FR" })).toMatch(/^Votre code flashverify est \d{6}\./);
    expect(await smsText("+447400160001")).toMatch(/^Your flashverify verification code is \d{6}\./);
  });

  it("refuses a bad placeholder with a clear error and changes nothing", async () => {
    const bad = await request("PUT", "/v1/templates/sms/es", { body: "Hola {nombre}, tu clave" });
    expect(bad.status).toBe(422);
    expect(bad.body.error).toMatchObject({
      code: "INVALID_TEMPLATE",
      message: "body: unknown placeholder {nombre}: use {app}, {code} or {minutes}; body: must contain {code}",
      details: { problems: expect.any(Array) },
    });
    const read = await request("GET", "/v1/templates/sms/es");
    expect(read.body).toMatchObject({ source: "shipped", body: expect.stringMatching(/^Tu clave/) });
    const unknown = await request("PUT", "/v1/templates/sms/nl", { body: "{code}" });
    expect(unknown.status).toBe(400);
  });

  it("sends the application's own text with the WebOTP line, previews its SMS parts, and falls back when removed", async () => {
    const saved = await request("PUT", "/v1/templates/sms/es", {
      body: "{code} es tu clave de {app}",
      webotp_host: "acme.example",
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    expect(saved.body).toMatchObject({
      channel: "sms",
      language: "es",
      source: "application",
      webotp_host: "acme.example",
      preview: {
        text: "482913 es tu clave de flashverify\n@acme.example #482913",
        sms: { encoding: "GSM-7", parts: 1 },
      },
    });
    const text = await smsText("+34612340003");
    const code = text.match(/^(\d{6}) es tu clave de flashverify\n@acme\.example #(\d{6})$/);
    expect(code?.[1], text).toBe(code?.[2]);

    const ru = await request("GET", "/v1/templates/sms/ru");
    expect(ru.body.preview.sms).toMatchObject({ encoding: "UCS-2", parts: 1 });
    const listed = await request("GET", "/v1/templates?language=es");
    expect(listed.body.data.map((d: Json) => [d.channel, d.source])).toEqual([
      ["sms", "application"],
      ["whatsapp", "server"],
      ["viber", "shipped"],
      ["email", "shipped"],
      ["voice", "shipped"],
    ]);

    expect((await request("DELETE", "/v1/templates/sms/es")).status).toBe(204);
    expect((await request("DELETE", "/v1/templates/sms/es")).status).toBe(404);
    expect(await smsText("+34612340004")).toMatch(/^Tu clave de flashverify/);
  });

  it("uses the application's default language where neither the locale nor the country decide", async () => {
    const set = await request("PUT", "/v1/templates/default-language", { language: "de" });
    expect(set.body).toEqual({ default_language: "de" });
    // The Netherlands: no Dutch is shipped, so the application's default decides.
    expect(await smsText("+31612345001")).toMatch(/^Ihr flashverify-Code lautet \d{6}\./);
    await request("PUT", "/v1/templates/default-language", { language: null });
    expect(await smsText("+31612345002")).toMatch(/^Your flashverify verification code/);
    expect(await smsText("+393471234003")).toMatch(/^Il tuo codice flashverify è \d{6}\./);
  });
});
