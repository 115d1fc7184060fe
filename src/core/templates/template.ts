/**
 * Message templates: what each channel says, per language, with the placeholders `{app}`, `{code}` and `{minutes}`
 * (a voice prompt's parts take `{app}` and `{minutes}`: the voice channel speaks the code itself, digit by digit).
 * A template is checked when it is saved (known placeholders only, the code where the channel carries it, lengths),
 * so a send never fails on a template; rendering is plain substitution.
 */
import type { Language } from "./languages.js";
import type { VoiceTexts } from "./shipped-voice.js";

export const TEMPLATE_CHANNELS = ["sms", "whatsapp", "viber", "email", "voice"] as const;
export type TemplateChannel = (typeof TEMPLATE_CHANNELS)[number];

export type TemplateContent =
  | {
      channel: "sms";
      body: string;
      /** Android's SMS Retriever: the app's 11-character hash, on its own line, so the app reads the SMS itself */
      androidAppHash: string | null;
      /** WebOTP: the site's host; the last line becomes `@host #code`, so the browser offers the code */
      webOtpHost: string | null;
    }
  | { channel: "viber"; body: string }
  /** WhatsApp sends Meta-approved templates: which one, in which of its languages (Meta's code, e.g. `pt_BR`) */
  | { channel: "whatsapp"; templateName: string; languageCode: string }
  | { channel: "email"; subject: string; body: string }
  /** the spoken parts of a voice call around the code (see shipped-voice.ts) */
  | ({ channel: "voice" } & VoiceTexts);

export interface MessageValues {
  app: string;
  code: string;
  minutes: number;
}

export const PLACEHOLDERS = ["app", "code", "minutes"] as const;
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Fills `{app}`, `{code}` and `{minutes}`. */
export function fill(text: string, values: MessageValues): string {
  return text.replace(PLACEHOLDER, (whole, name: string) =>
    name === "app" ? values.app : name === "code" ? values.code : name === "minutes" ? String(values.minutes) : whole,
  );
}

export interface TemplateProblem {
  /** the field as the API names it (`body`, `android_app_hash`, ...) */
  field: string;
  message: string;
}

/** Characters a field may hold before filling: an SMS body up to three parts of GSM-7. */
const SMS_BODY_LIMIT = 459;
const VIBER_BODY_LIMIT = 1000;
const EMAIL_BODY_LIMIT = 5000;
const SUBJECT_LIMIT = 200;
/** a spoken phrase: a sentence or two, rendered by espeak-ng once per template and language */
const VOICE_PHRASE_LIMIT = 300;

/**
 * Characters no message needs: control characters (but tab and line breaks) and the direction overrides LRO and RLO,
 * which would show the code's digits reversed. Isolates (U+2066-U+2069) stay allowed: right-to-left texts use them.
 */
function unsendable(value: string): number | undefined {
  for (const char of value) {
    const c = char.codePointAt(0) as number;
    const control = (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || (c >= 0x7f && c <= 0x9f);
    if (control || c === 0x202d || c === 0x202e) return c;
  }
  return undefined;
}

/** Everything wrong with a template, or an empty list. */
export function templateProblems(content: TemplateContent): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  const text = (field: string, value: string, rule: { code: "required" | "optional" | "spoken"; max: number }) => {
    if (value.trim().length === 0) problems.push({ field, message: "must not be empty" });
    if (value.length > rule.max) problems.push({ field, message: `at most ${rule.max} characters` });
    const refused = unsendable(value);
    if (refused !== undefined) {
      const code = `U+${refused.toString(16).toUpperCase().padStart(4, "0")}`;
      problems.push({ field, message: `${code}: no control characters or direction overrides` });
    }
    for (const match of value.matchAll(PLACEHOLDER)) {
      const name = match[1] as string;
      if (!(PLACEHOLDERS as readonly string[]).includes(name)) {
        problems.push({ field, message: `unknown placeholder {${name}}: use {app}, {code} or {minutes}` });
      }
    }
    if (rule.code === "required" && !value.includes("{code}")) problems.push({ field, message: "must contain {code}" });
    if (rule.code === "spoken" && value.includes("{code}")) {
      problems.push({
        field,
        message: "no {code}: the call says the code itself, digit by digit, after intro and again",
      });
    }
  };
  switch (content.channel) {
    case "sms":
      text("body", content.body, { code: "required", max: SMS_BODY_LIMIT });
      if (content.androidAppHash !== null && !/^[A-Za-z0-9+/]{11}$/.test(content.androidAppHash)) {
        problems.push({ field: "android_app_hash", message: "the 11 characters Android's SMS Retriever computes" });
      }
      if (content.webOtpHost !== null && !isHostName(content.webOtpHost)) {
        problems.push({ field: "webotp_host", message: "a host name like example.com (no scheme, port or path)" });
      }
      break;
    case "viber":
      text("body", content.body, { code: "required", max: VIBER_BODY_LIMIT });
      break;
    case "whatsapp":
      if (!/^[a-z0-9_]{1,512}$/.test(content.templateName)) {
        problems.push({ field: "template_name", message: "an approved template's name: lowercase letters, digits, _" });
      }
      if (!/^[a-z]{2,3}(_[A-Z]{2})?$/.test(content.languageCode)) {
        problems.push({ field: "language_code", message: "one of WhatsApp's language codes, e.g. es or pt_BR" });
      }
      break;
    case "email":
      text("subject", content.subject, { code: "optional", max: SUBJECT_LIMIT });
      if (/[\r\n]/.test(content.subject)) problems.push({ field: "subject", message: "one line: no line breaks" });
      text("body", content.body, { code: "required", max: EMAIL_BODY_LIMIT });
      break;
    case "voice":
      for (const field of ["intro", "again", "menu"] as const) {
        text(field, content[field], { code: "spoken", max: VOICE_PHRASE_LIMIT });
      }
      break;
  }
  return problems;
}

function isHostName(value: string): boolean {
  return /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/.test(value);
}

/** What a channel sends, rendered: the text, and what some channels need besides. */
export interface RenderedMessage {
  language: Language;
  text: string;
  /** email */
  subject?: string;
  /** email: the language reads right to left */
  rightToLeft?: boolean;
  /** WhatsApp */
  whatsapp?: { templateName: string; languageCode: string };
  /** voice: the phrases around the code, filled; absent: the voice channel's own in its default language */
  voice?: VoiceTexts;
}

/** Renders a template with the values of one send. */
export function render(content: TemplateContent, language: Language, values: MessageValues): RenderedMessage {
  switch (content.channel) {
    case "sms": {
      const lines = [fill(content.body, values)];
      // SMS Retriever looks for the hash anywhere in the message; WebOTP needs its line last.
      if (content.androidAppHash) lines.push(content.androidAppHash);
      if (content.webOtpHost) lines.push(`@${content.webOtpHost} #${values.code}`);
      return { language, text: lines.join("\n") };
    }
    case "viber":
      return { language, text: fill(content.body, values) };
    case "whatsapp":
      return {
        language,
        text: values.code,
        whatsapp: { templateName: content.templateName, languageCode: content.languageCode },
      };
    case "email":
      return { language, text: fill(content.body, values), subject: fill(content.subject, values) };
    case "voice": {
      const voice = {
        intro: fill(content.intro, values),
        again: fill(content.again, values),
        menu: fill(content.menu, values),
      };
      // What the call says, as text: the code digit by digit, twice (the channel speaks each digit on its own).
      const digits = [...values.code].join(" ");
      return { language, text: `${voice.intro} ${digits}. ${voice.again} ${digits}. ${voice.menu}`, voice };
    }
  }
}

/** A template's fields as an API names them, before they are known to fit the channel. */
export interface TemplateFields {
  body?: string | undefined;
  subject?: string | undefined;
  templateName?: string | undefined;
  languageCode?: string | undefined;
  androidAppHash?: string | null | undefined;
  webOtpHost?: string | null | undefined;
  intro?: string | undefined;
  again?: string | undefined;
  menu?: string | undefined;
}

const FIELDS_OF: Record<TemplateChannel, ReadonlyArray<keyof TemplateFields>> = {
  sms: ["body", "androidAppHash", "webOtpHost"],
  viber: ["body"],
  whatsapp: ["templateName", "languageCode"],
  email: ["subject", "body"],
  voice: ["intro", "again", "menu"],
};

/** The channel's template from the fields given, or the fields that do not belong to it. */
export function contentOf(
  channel: TemplateChannel,
  fields: TemplateFields,
): { ok: true; content: TemplateContent } | { ok: false; problems: TemplateProblem[] } {
  const problems = (Object.keys(fields) as Array<keyof TemplateFields>)
    .filter((name) => fields[name] !== undefined && !FIELDS_OF[channel].includes(name))
    .map((name) => ({
      field: name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
      message: `not a field of ${channel} templates`,
    }));
  if (problems.length > 0) return { ok: false, problems };
  const text = (value: string | undefined) => value ?? "";
  switch (channel) {
    case "sms":
      return {
        ok: true,
        content: {
          channel,
          body: text(fields.body),
          androidAppHash: fields.androidAppHash ?? null,
          webOtpHost: fields.webOtpHost ?? null,
        },
      };
    case "viber":
      return { ok: true, content: { channel, body: text(fields.body) } };
    case "whatsapp":
      return {
        ok: true,
        content: { channel, templateName: text(fields.templateName), languageCode: text(fields.languageCode) },
      };
    case "email":
      return { ok: true, content: { channel, subject: text(fields.subject), body: text(fields.body) } };
    case "voice":
      return {
        ok: true,
        content: { channel, intro: text(fields.intro), again: text(fields.again), menu: text(fields.menu) },
      };
  }
}
