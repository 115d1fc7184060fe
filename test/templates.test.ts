/** Message templates: the shipped texts fit one SMS, saves are checked, and each send picks its language. */
import { describe, expect, it } from "vitest";
import { htmlBody } from "../src/channels/email/index.js";
import { encodeSms } from "../src/channels/sms-smpp/segments.js";
import { chooseLanguage, LANGUAGES } from "../src/core/templates/languages.js";
import { SHIPPED } from "../src/core/templates/shipped.js";
import { fill } from "../src/core/templates/template.js";
import { type StoredTemplate, TemplateBook, type TemplateStore } from "../src/core/templates/template-book.js";
import type { Verification } from "../src/core/types.js";

const GSM7_LANGUAGES = new Set(["en", "es", "pt", "fr", "de", "it", "id"]);

function memoryStore(): TemplateStore & { rows: StoredTemplate[] } {
  const rows: StoredTemplate[] = [];
  let defaultLanguage: StoredTemplate["language"] | null = null;
  const same = (t: StoredTemplate, app: string, channel: string, language: string) =>
    t.applicationId === app && t.content.channel === channel && t.language === language;
  return {
    rows,
    listTemplates: async (app) => rows.filter((t) => t.applicationId === app),
    putTemplate: async (t) => {
      const at = rows.findIndex((r) => same(r, t.applicationId, t.content.channel, t.language));
      if (at >= 0) rows[at] = t;
      else rows.push(t);
    },
    deleteTemplate: async (app, channel, language) => {
      const at = rows.findIndex((r) => same(r, app, channel, language));
      if (at >= 0) rows.splice(at, 1);
      return at >= 0;
    },
    getDefaultLanguage: async () => defaultLanguage,
    setDefaultLanguage: async (_app, language) => {
      defaultLanguage = language;
    },
  };
}

const clock = { now: () => 1_700_000_000_000 };
const verification = (country: string, locale?: string): Verification =>
  ({ applicationId: "app_1", country, client: locale ? { locale } : null }) as Verification;

describe("shipped templates", () => {
  it.each(LANGUAGES)(
    "%s: the SMS fits one part (a 6-digit code, an 11-letter app name), in the script's encoding",
    (language) => {
      const text = fill(SHIPPED[language].sms, { app: "flashverify", code: "482913", minutes: 10 });
      const encoded = encodeSms(text, 0);
      expect(encoded.parts, text).toHaveLength(1);
      // GSM-7 (data coding 0) where the language's letters allow it: 160 characters instead of 70.
      expect(encoded.dataCoding, text).toBe(GSM7_LANGUAGES.has(language) ? 0 : 8);
      expect(text).toContain("482913");
      expect(text).toContain("flashverify");
    },
  );

  it("ships every channel's text in every language, none missing its code or naming an unknown placeholder", () => {
    for (const language of LANGUAGES) {
      const texts = SHIPPED[language];
      for (const text of [texts.sms, texts.emailBody]) expect(text).toContain("{code}");
      for (const text of Object.values(texts)) {
        for (const placeholder of text.match(/\{\w+\}/g) ?? [])
          expect(["{app}", "{code}", "{minutes}"]).toContain(placeholder);
      }
    }
  });
});

describe("the language of a send", () => {
  it("follows locale, then country, then the application's default, then English", () => {
    expect(chooseLanguage({ locale: undefined, country: "ES", applicationDefault: null })).toEqual({
      language: "es",
      from: "country",
    });
    expect(chooseLanguage({ locale: "pt-BR", country: "ES", applicationDefault: "de" })).toEqual({
      language: "pt",
      from: "locale",
    });
    // A locale we do not ship counts as absent: the country decides.
    expect(chooseLanguage({ locale: "nl-NL", country: "MX", applicationDefault: null }).language).toBe("es");
    expect(chooseLanguage({ locale: undefined, country: "NL", applicationDefault: "fr" })).toEqual({
      language: "fr",
      from: "application",
    });
    expect(chooseLanguage({ locale: undefined, country: "NL", applicationDefault: null })).toEqual({
      language: "en",
      from: "fallback",
    });
  });

  it("renders a Spanish number's SMS in Spanish and an Arabic email right to left", async () => {
    const book = new TemplateBook(memoryStore(), clock, { appName: "Acme" });
    const sms = await book.render(verification("ES"), "sms", "482913", 600_000);
    expect(sms).toEqual({
      language: "es",
      text: "Tu clave de Acme es 482913. Vence en 10 min. No la compartas con nadie.",
    });
    const email = await book.render(verification("SA"), "email", "482913", 600_000);
    expect(email).toMatchObject({ language: "ar", rightToLeft: true, subject: "رمز التحقق من Acme" });
    const html = htmlBody(email.text, "ar", true);
    expect(html).toContain('<html lang="ar" dir="rtl">');
    expect(html).toContain("482913");
    expect(htmlBody("a <b> & c", "en", false)).toContain("<p>a &lt;b&gt; &amp; c</p>");
  });
});

describe("saving templates", () => {
  it("refuses an unknown placeholder, a missing code and fields of another channel, with each problem named", async () => {
    const store = memoryStore();
    const book = new TemplateBook(store, clock);
    const bad = await book.save("app_1", "sms", "es", { body: "Hola {name}" }, "key_1");
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.error.code).toBe("INVALID_TEMPLATE");
    expect(bad.error.details?.problems).toEqual([
      { field: "body", message: "unknown placeholder {name}: use {app}, {code} or {minutes}" },
      { field: "body", message: "must contain {code}" },
    ]);
    const foreign = await book.save("app_1", "viber", "en", { body: "{code}", subject: "x" }, "key_1");
    expect(foreign.ok || foreign.error.message).toBe("subject: not a field of viber templates");
    const hash = await book.save("app_1", "sms", "en", { body: "{code}", androidAppHash: "short" }, "key_1");
    expect(hash.ok || hash.error.message).toContain("android_app_hash");
    expect(store.rows).toEqual([]);
  });

  it("refuses control characters and the overrides that would show the code reversed; keeps isolates", async () => {
    const store = memoryStore();
    const book = new TemplateBook(store, clock);
    const cases: Array<[string, string]> = [
      ["\u202E{code}", "U+202E"],
      ["Code: {code}\u0000", "U+0000"],
      ["\u001B[2J{code}", "U+001B"],
    ];
    for (const [body, named] of cases) {
      const saved = await book.save("app_1", "sms", "en", { body }, "key_1");
      expect(saved.ok || saved.error.message, JSON.stringify(body)).toBe(
        `body: ${named}: no control characters or direction overrides`,
      );
    }
    const subject = await book.save("app_1", "email", "en", { subject: "a\r\nBcc: x@y", body: "{code}" }, "key_1");
    expect(subject.ok || subject.error.message).toBe("subject: one line: no line breaks");
    expect(store.rows).toEqual([]);
    // Right-to-left text keeps the code's digits in order with an isolate, and lines stay lines.
    const arabic = await book.save("app_1", "sms", "ar", { body: "رمزك \u2066{code}\u2069\nشكرا" }, "key_1");
    expect(arabic.ok).toBe(true);
  });

  it("uses a saved template at once, with Android's hash and the WebOTP line last, and falls back when removed", async () => {
    const store = memoryStore();
    const book = new TemplateBook(store, clock, { appName: "Acme" });
    await book.render(verification("ES"), "sms", "1", 60_000); // loads (and caches) the application's templates
    const saved = await book.save(
      "app_1",
      "sms",
      "es",
      { body: "{app}: {code}", androidAppHash: "FA+9qCX9VSu", webOtpHost: "acme.example" },
      "key_1",
    );
    expect(saved.ok && saved.value).toMatchObject({ updatedBy: "key_1", updatedAt: clock.now() });
    const sms = await book.render(verification("ES"), "sms", "482913", 600_000);
    expect(sms.text).toBe("Acme: 482913\nFA+9qCX9VSu\n@acme.example #482913");
    expect(await book.remove("app_1", "sms", "es")).toBe(true);
    expect((await book.render(verification("ES"), "sms", "482913", 600_000)).text).toMatch(/^Tu clave de Acme/);
  });
});

describe("voice templates", () => {
  it("refuse {code} and unknown placeholders in the spoken parts, and empty parts, each problem named", async () => {
    const store = memoryStore();
    const book = new TemplateBook(store, clock);
    const bad = await book.save(
      "app_1",
      "voice",
      "es",
      { intro: "Su clave es {code}", again: "Otra vez {name}", menu: " " },
      "key_1",
    );
    expect(bad.ok || bad.error.details?.problems).toEqual([
      {
        field: "intro",
        message: "no {code}: the call says the code itself, digit by digit, after intro and again",
      },
      { field: "again", message: "unknown placeholder {name}: use {app}, {code} or {minutes}" },
      { field: "menu", message: "must not be empty" },
    ]);
    const foreign = await book.save("app_1", "voice", "es", { body: "{code}" }, "key_1");
    expect(foreign.ok || foreign.error.message).toBe("body: not a field of voice templates");
    expect(store.rows).toEqual([]);
  });

  it("give a call the application's phrases in the verification's language, and none without a template", async () => {
    const book = new TemplateBook(memoryStore(), clock, { appName: "Acme" });
    // Without a template of its own, the voice channel says its shipped (or recorded) phrases: only the code goes.
    expect(await book.render(verification("ES"), "voice", "482913", 600_000)).toEqual({
      language: "es",
      text: "482913",
    });
    const saved = await book.save(
      "app_1",
      "voice",
      "es",
      { intro: "Hola, su clave de {app} es", again: "Otra vez, la clave es", menu: "Para oírla de nuevo, pulse uno." },
      "key_1",
    );
    expect(saved.ok).toBe(true);
    expect(await book.render(verification("ES"), "voice", "482913", 600_000)).toEqual({
      language: "es",
      text: "Hola, su clave de Acme es 4 8 2 9 1 3. Otra vez, la clave es 4 8 2 9 1 3. Para oírla de nuevo, pulse uno.",
      voice: {
        intro: "Hola, su clave de Acme es",
        again: "Otra vez, la clave es",
        menu: "Para oírla de nuevo, pulse uno.",
      },
    });
    // Another language keeps the defaults.
    expect((await book.render(verification("FR"), "voice", "482913", 600_000)).voice).toBeUndefined();
  });
});
