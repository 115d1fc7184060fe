/**
 * Each application's message templates over the shipped ones, and the text of each send. A send's template is
 * looked up along one chain, first found wins:
 *   1. the application's template for the channel in the verification's language
 *   2. the server's text for the channel (OTP_TEMPLATE for SMS and Viber, EMAIL_SUBJECT), when configured
 *   3. the shipped template in the verification's language
 * The verification's language is chosen by `chooseLanguage` (locale, country, the application's default, English),
 * and every language chosen is shipped, so step 3 always answers. Templates are read once per application and kept
 * for `cacheMs`; a change made through this process is seen at once, one made through another after at most that.
 *
 * @example
 * const book = new TemplateBook(store.templates, clock, { appName: "Acme" });
 * await book.save("app_1", "sms", "es", { body: "Tu clave: {code}" }, "key_1");
 * await book.render(verification, "sms", "482913", 600_000); // { language: "es", text: "Tu clave: 482913" }
 */
import { type AppError, ok, type Result } from "../errors.js";
import type { Clock } from "../ports.js";
import type { Verification } from "../types.js";
import { chooseLanguage, FALLBACK_LANGUAGE, type Language, RIGHT_TO_LEFT } from "./languages.js";
import { SHIPPED } from "./shipped.js";
import { SHIPPED_VOICE, type VoiceTexts } from "./shipped-voice.js";
import {
  contentOf,
  type RenderedMessage,
  render,
  type TemplateChannel,
  type TemplateContent,
  type TemplateFields,
  type TemplateProblem,
  templateProblems,
} from "./template.js";

export interface StoredTemplate {
  applicationId: string;
  language: Language;
  content: TemplateContent;
  updatedAt: number;
  /** who saved it: the API key's id (or `cli`) */
  updatedBy: string;
}

/** The templates aggregate: an application's own templates and its default language. */
export interface TemplateStore {
  listTemplates(applicationId: string): Promise<StoredTemplate[]>;
  /** Inserts or replaces the application's template for (channel, language). */
  putTemplate(template: StoredTemplate): Promise<void>;
  /** False when there was none. */
  deleteTemplate(applicationId: string, channel: TemplateChannel, language: Language): Promise<boolean>;
  getDefaultLanguage(applicationId: string): Promise<Language | null>;
  setDefaultLanguage(applicationId: string, language: Language | null, now: number): Promise<void>;
}

/** A store with no application templates: every send uses the server's and the shipped texts. */
export const NO_TEMPLATES: TemplateStore = {
  listTemplates: async () => [],
  putTemplate: async () => {
    throw new Error("this server keeps no templates");
  },
  deleteTemplate: async () => false,
  getDefaultLanguage: async () => null,
  setDefaultLanguage: async () => {
    throw new Error("this server keeps no templates");
  },
};

export interface TemplateBookSettings {
  /** `{app}` in every text; default "flashverify" */
  appName?: string | undefined;
  /** the server's SMS and Viber text for every language (OTP_TEMPLATE); default the shipped ones */
  smsText?: string | undefined;
  /** the server's email subject for every language (EMAIL_SUBJECT); default the shipped ones */
  emailSubject?: string | undefined;
  /** the WhatsApp template and language the server sends when an application names none for a language */
  whatsapp?: { templateName: string; languageCode: string } | undefined;
  /** how long an application's templates are kept in memory; default 30 s */
  cacheMs?: number | undefined;
}

interface Loaded {
  at: number;
  defaultLanguage: Language | null;
  own: Map<string, StoredTemplate>;
}

const key = (channel: TemplateChannel, language: Language) => `${channel}:${language}`;

export class TemplateBook {
  private readonly loaded = new Map<string, Loaded>();

  constructor(
    private readonly store: TemplateStore,
    private readonly clock: Clock,
    private readonly settings: TemplateBookSettings = {},
  ) {}

  /** The template a send in `language` uses, and where it comes from. */
  async effective(
    applicationId: string,
    channel: TemplateChannel,
    language: Language,
  ): Promise<{ content: TemplateContent; source: "application" | "server" | "shipped" }> {
    const own = (await this.load(applicationId)).own.get(key(channel, language));
    if (own) return { content: own.content, source: "application" };
    return this.serverTemplate(channel, language);
  }

  /**
   * The text (and what else the channel needs) of one send. A voice call gets the application's voice template's
   * phrases around the code; without one, only the language and the code, and the voice channel says its own
   * (shipped or recorded) phrases, in its default language where the verification's has none.
   */
  async render(v: Verification, channel: TemplateChannel, code: string, ttlMs: number): Promise<RenderedMessage> {
    const { defaultLanguage } = await this.load(v.applicationId);
    const { language } = chooseLanguage({
      locale: v.client?.locale,
      country: v.country,
      applicationDefault: defaultLanguage,
    });
    const { content, source } = await this.effective(v.applicationId, channel, language);
    // The shipped phrases are the voice channel's own (recorded prompt files may replace them): it needs only these.
    if (channel === "voice" && source !== "application") return { language, text: code };
    const minutes = Math.max(1, Math.round(ttlMs / 60_000));
    const rendered = render(content, language, { app: this.settings.appName ?? "flashverify", code, minutes });
    return RIGHT_TO_LEFT.has(language) ? { ...rendered, rightToLeft: true } : rendered;
  }

  async list(applicationId: string): Promise<{ defaultLanguage: Language | null; own: StoredTemplate[] }> {
    const loaded = await this.load(applicationId, true);
    return { defaultLanguage: loaded.defaultLanguage, own: [...loaded.own.values()] };
  }

  /** Checks a template and keeps it; `by` is who saved it (an API key's id). */
  async save(
    applicationId: string,
    channel: TemplateChannel,
    language: Language,
    fields: TemplateFields,
    by: string,
  ): Promise<Result<StoredTemplate, AppError>> {
    const read = contentOf(channel, fields);
    const problems = read.ok ? templateProblems(read.content) : read.problems;
    if (!read.ok || problems.length > 0) {
      return { ok: false, error: { code: "INVALID_TEMPLATE", message: describe(problems), details: { problems } } };
    }
    const content = read.content;
    const template = { applicationId, language, content, updatedAt: this.clock.now(), updatedBy: by };
    await this.store.putTemplate(template);
    this.loaded.delete(applicationId);
    return ok(template);
  }

  async remove(applicationId: string, channel: TemplateChannel, language: Language): Promise<boolean> {
    const removed = await this.store.deleteTemplate(applicationId, channel, language);
    this.loaded.delete(applicationId);
    return removed;
  }

  async setDefaultLanguage(applicationId: string, language: Language | null): Promise<void> {
    await this.store.setDefaultLanguage(applicationId, language, this.clock.now());
    this.loaded.delete(applicationId);
  }

  private serverTemplate(
    channel: TemplateChannel,
    language: Language,
  ): { content: TemplateContent; source: "server" | "shipped" } {
    const shipped = SHIPPED[language];
    const { smsText, emailSubject, whatsapp } = this.settings;
    switch (channel) {
      case "sms":
        return {
          content: { channel, body: smsText ?? shipped.sms, androidAppHash: null, webOtpHost: null },
          source: smsText ? "server" : "shipped",
        };
      case "viber":
        return { content: { channel, body: smsText ?? shipped.sms }, source: smsText ? "server" : "shipped" };
      case "whatsapp":
        // An approved template exists only in the languages its owner registered: the server's one, unless the
        // application names its own for the language.
        return {
          content: {
            channel,
            templateName: whatsapp?.templateName ?? "verification_code",
            languageCode: whatsapp?.languageCode ?? shipped.whatsappLanguage,
          },
          source: whatsapp ? "server" : "shipped",
        };
      case "email":
        return {
          content: { channel, subject: emailSubject ?? shipped.emailSubject, body: shipped.emailBody },
          source: emailSubject ? "server" : "shipped",
        };
      case "voice":
        // A language without shipped phrases shows the fallback's (the call speaks VOICE_LANGUAGE; see render).
        return {
          content: { channel, ...(SHIPPED_VOICE[language] ?? (SHIPPED_VOICE[FALLBACK_LANGUAGE] as VoiceTexts)) },
          source: "shipped",
        };
    }
  }

  private async load(applicationId: string, fresh = false): Promise<Loaded> {
    const now = this.clock.now();
    const cached = this.loaded.get(applicationId);
    if (cached && !fresh && now - cached.at < (this.settings.cacheMs ?? 30_000)) return cached;
    const [templates, defaultLanguage] = await Promise.all([
      this.store.listTemplates(applicationId),
      this.store.getDefaultLanguage(applicationId),
    ]);
    const own = new Map(templates.map((t) => [key(t.content.channel, t.language), t]));
    const loaded = { at: now, defaultLanguage, own };
    this.loaded.set(applicationId, loaded);
    return loaded;
  }
}

function describe(problems: TemplateProblem[]): string {
  return problems.map((p) => `${p.field}: ${p.message}`).join("; ");
}
