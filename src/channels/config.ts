/**
 * The message channels' settings, part of the one configuration schema (src/config-shape.ts), and the slices they are
 * parsed into (src/config-slices.ts). Each channel is off until configured; with SANDBOX=on, SMS, WhatsApp, Viber and
 * email that are not configured go to the virtual carrier.
 */
import { z } from "zod";
import type { HttpSmsOptions } from "./sms-http/index.js";
import type { TwilioSmsOptions } from "./sms-http/twilio.js";
import type { SmppSmsOptions } from "./sms-smpp/index.js";

const onOff = z.enum(["on", "off"]);
const port = z.coerce.number().int().min(1).max(65535);

const HttpSmsSchema = z
  .object({
    url: z.url(),
    headers: z.record(z.string(), z.string()).optional(),
    encoding: z.enum(["json", "form"]).optional(),
    body: z.record(z.string(), z.unknown()),
    from: z.string().min(1),
    responseIdPath: z.string().min(1),
    receipt: z
      .object({
        idPath: z.string().min(1),
        statusPath: z.string().min(1),
        delivered: z.array(z.string()),
        failed: z.array(z.string()),
        errorPath: z.string().optional(),
      })
      .optional(),
    timeoutMs: z.number().int().min(100).max(60_000).optional(),
  })
  .strict();

const json = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value, ctx) => {
    if (typeof value !== "string") return value;
    try {
      return JSON.parse(value);
    } catch {
      ctx.addIssue({ code: "custom", message: "is not valid JSON" });
      return z.NEVER;
    }
  }, schema);

export const MessageChannelsConfig = {
  /** which SMS provider: smpp, twilio or http (SMS_HTTP); default the sandbox SMSC with SANDBOX=on, else none */
  SMS_PROVIDER: z.enum(["smpp", "twilio", "http", "none"]).optional(),
  /** the sender id of SMS: +E.164, a short code, or up to 11 letters; default "Verify" */
  SMS_SENDER: z.string().min(1).max(16).default("Verify"),
  SMPP_HOST: z.string().min(1).optional(),
  SMPP_PORT: port.default(2775),
  SMPP_TLS: onOff.default("off"),
  SMPP_SYSTEM_ID: z.string().max(16).optional(),
  SMPP_PASSWORD: z.string().max(9).optional(),
  SMPP_SYSTEM_TYPE: z.string().max(13).default(""),
  /** submit_sm awaiting a response at once; default 10 */
  SMPP_WINDOW: z.coerce.number().int().min(1).max(1000).default(10),
  /** submits per second on the bind; default 50 */
  SMPP_MAX_PER_SECOND: z.coerce.number().min(0.1).max(10_000).default(50),
  TWILIO_ACCOUNT_SID: z.string().min(1).optional(),
  TWILIO_AUTH_TOKEN: z.string().min(1).optional(),
  /** default https://api.twilio.com */
  TWILIO_BASE_URL: z.url().optional(),
  /** a generic JSON/form SMS gateway (JSON object, see the README's "Channels") */
  SMS_HTTP: json(HttpSmsSchema).optional(),

  WHATSAPP_PHONE_NUMBER_ID: z.string().min(1).optional(),
  WHATSAPP_ACCESS_TOKEN: z.string().min(1).optional(),
  /** an approved authentication template with a copy-code button; default verification_code */
  WHATSAPP_TEMPLATE: z.string().min(1).default("verification_code"),
  WHATSAPP_LANGUAGE: z.string().min(2).default("en_US"),
  /** default https://graph.facebook.com */
  WHATSAPP_BASE_URL: z.url().optional(),
  /** checks the X-Hub-Signature-256 of status webhooks */
  WHATSAPP_APP_SECRET: z.string().min(1).optional(),

  /** the Viber Business Messages service's auth token (turns the Viber channel on) */
  VIBER_AUTH_TOKEN: z.string().min(1).optional(),
  /** the sender name users see in Viber, as registered; default "Verify" */
  VIBER_SENDER: z.string().min(1).max(28).default("Verify"),
  /** seconds Viber keeps trying to deliver an OTP (30-86400); default 120 */
  VIBER_TTL_SECONDS: z.coerce.number().int().min(30).max(86_400).default(120),
  /** default https://chatapi.viber.com/pa */
  VIBER_BASE_URL: z.url().optional(),

  EMAIL_SMTP_HOST: z.string().min(1).optional(),
  EMAIL_SMTP_PORT: port.default(587),
  /** TLS from the start (port 465); default off (STARTTLS when offered) */
  EMAIL_SMTP_SECURE: onOff.default("off"),
  EMAIL_SMTP_USER: z.string().optional(),
  EMAIL_SMTP_PASSWORD: z.string().optional(),
  EMAIL_FROM: z.string().min(3).default("flashverify <no-reply@localhost>"),
  /** the email subject in every language; default the shipped subject of the verification's language */
  EMAIL_SUBJECT: z.string().min(1).max(200).optional(),

  /** the secret path segment of delivery-report webhooks: POST /v1/receipts/{channel}/{token} */
  RECEIPTS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
};

type ChannelSettings = z.infer<z.ZodObject<typeof MessageChannelsConfig>>;

/**
 * Which provider sends SMS, with exactly what it needs (the configuration's `sms`): parsed once from the SMS_* /
 * SMPP_* / TWILIO_* settings, so the channel's factory reads a checked case instead of optional settings.
 */
export type SmsConfig =
  | { provider: "smpp"; options: SmppSmsOptions }
  | { provider: "twilio"; options: TwilioSmsOptions }
  | { provider: "http"; options: HttpSmsOptions }
  /** the sandbox's SMSC, whose address is known once it listens */
  | { provider: "sandbox"; sender: string }
  | { provider: "none" };

/** The SMS case of settings `c`, or the settings missing for it (each an issue on its key). */
export function smsConfig(
  c: ChannelSettings & { SANDBOX: "on" | "off" },
  missing: (key: string, when: string) => void,
): SmsConfig {
  const provider = c.SMS_PROVIDER ?? (c.SMPP_HOST ? "smpp" : c.SANDBOX === "on" ? "sandbox" : "none");
  switch (provider) {
    case "smpp":
      if (!c.SMPP_HOST || !c.SMPP_SYSTEM_ID) {
        if (!c.SMPP_HOST) missing("SMPP_HOST", "SMS_PROVIDER=smpp");
        if (!c.SMPP_SYSTEM_ID) missing("SMPP_SYSTEM_ID", "SMS_PROVIDER=smpp");
        return { provider: "none" };
      }
      return {
        provider,
        options: {
          bind: {
            host: c.SMPP_HOST,
            port: c.SMPP_PORT,
            tls: c.SMPP_TLS === "on",
            systemId: c.SMPP_SYSTEM_ID,
            password: c.SMPP_PASSWORD ?? "",
            systemType: c.SMPP_SYSTEM_TYPE,
            window: c.SMPP_WINDOW,
            maxPerSecond: c.SMPP_MAX_PER_SECOND,
          },
          sender: c.SMS_SENDER,
        },
      };
    case "twilio":
      if (!c.TWILIO_ACCOUNT_SID || !c.TWILIO_AUTH_TOKEN) {
        if (!c.TWILIO_ACCOUNT_SID) missing("TWILIO_ACCOUNT_SID", "SMS_PROVIDER=twilio");
        if (!c.TWILIO_AUTH_TOKEN) missing("TWILIO_AUTH_TOKEN", "SMS_PROVIDER=twilio");
        return { provider: "none" };
      }
      return {
        provider,
        options: {
          accountSid: c.TWILIO_ACCOUNT_SID,
          authToken: c.TWILIO_AUTH_TOKEN,
          from: c.SMS_SENDER,
          ...(c.TWILIO_BASE_URL ? { baseUrl: c.TWILIO_BASE_URL } : {}),
        },
      };
    case "http":
      if (!c.SMS_HTTP) {
        missing("SMS_HTTP", "SMS_PROVIDER=http");
        return { provider: "none" };
      }
      return { provider, options: c.SMS_HTTP };
    case "sandbox":
      return { provider, sender: c.SMS_SENDER };
    default:
      return { provider: "none" };
  }
}

/** A provider account of an HTTP channel, or the sandbox's stand-in for it (known once the sandbox listens). */
type Account<T> = T | "sandbox";

/** WhatsApp's Cloud API account (WHATSAPP_*) and the template it sends; null: the channel is off. */
export interface WhatsAppConfig {
  account: Account<{ phoneNumberId: string; accessToken: string; baseUrl: string | undefined }>;
  templateName: string;
  languageCode: string;
}

/** The Viber Business Messages account (VIBER_*) and what each message says of itself; null: the channel is off. */
export interface ViberConfig {
  account: Account<{ authToken: string; baseUrl: string | undefined }>;
  sender: string;
  ttlSeconds: number;
}

/** The SMTP relay (EMAIL_*) and the messages' envelope; null: the channel is off. */
export interface EmailConfig {
  relay: Account<{ host: string; port: number }>;
  secure: boolean;
  auth: { user: string; pass: string } | undefined;
  from: string;
  subject: string | undefined;
}

/** WhatsApp when both of its credentials are set, else the sandbox's stand-in while SANDBOX=on. */
export function whatsappConfig(c: ChannelSettings & { SANDBOX: "on" | "off" }): WhatsAppConfig | null {
  const account =
    c.WHATSAPP_PHONE_NUMBER_ID && c.WHATSAPP_ACCESS_TOKEN
      ? {
          phoneNumberId: c.WHATSAPP_PHONE_NUMBER_ID,
          accessToken: c.WHATSAPP_ACCESS_TOKEN,
          baseUrl: c.WHATSAPP_BASE_URL,
        }
      : c.SANDBOX === "on"
        ? ("sandbox" as const)
        : null;
  return account && { account, templateName: c.WHATSAPP_TEMPLATE, languageCode: c.WHATSAPP_LANGUAGE };
}

/** Viber when its token is set, else the sandbox's stand-in while SANDBOX=on. */
export function viberConfig(c: ChannelSettings & { SANDBOX: "on" | "off" }): ViberConfig | null {
  const account = c.VIBER_AUTH_TOKEN
    ? { authToken: c.VIBER_AUTH_TOKEN, baseUrl: c.VIBER_BASE_URL }
    : c.SANDBOX === "on"
      ? ("sandbox" as const)
      : null;
  return account && { account, sender: c.VIBER_SENDER, ttlSeconds: c.VIBER_TTL_SECONDS };
}

/** Email when a relay is set, else the sandbox's mailbox while SANDBOX=on. */
export function emailConfig(c: ChannelSettings & { SANDBOX: "on" | "off" }): EmailConfig | null {
  const relay = c.EMAIL_SMTP_HOST
    ? { host: c.EMAIL_SMTP_HOST, port: c.EMAIL_SMTP_PORT }
    : c.SANDBOX === "on"
      ? ("sandbox" as const)
      : null;
  if (!relay) return null;
  return {
    relay,
    secure: c.EMAIL_SMTP_SECURE === "on",
    auth: c.EMAIL_SMTP_USER ? { user: c.EMAIL_SMTP_USER, pass: c.EMAIL_SMTP_PASSWORD ?? "" } : undefined,
    from: c.EMAIL_FROM,
    subject: c.EMAIL_SUBJECT,
  };
}
