/**
 * The configuration's slices: the settings that only make sense together, parsed into one checked case each, so
 * that what builds a part of the server (src/root/*, the channels, the fraud controls) is handed its slice and
 * reads no optional setting it must cast. A combination that cannot be used is reported through `missing`, as an
 * issue on the variable's name, so it still stops the server at start with the same message.
 */
import {
  type EmailConfig,
  emailConfig,
  type SmsConfig,
  smsConfig,
  type ViberConfig,
  viberConfig,
  type WhatsAppConfig,
  whatsappConfig,
} from "./channels/config.js";
import { type InboundConfig, inboundConfig } from "./channels/reverse-flashcall/config.js";
import { type VoiceConfig, voiceConfig } from "./channels/voice/config.js";
import type { Settings } from "./config-shape.js";
import type { MeasureSettings } from "./core/delivery-measure.js";
import type { TemplateBookSettings } from "./core/templates/template-book.js";
import type { ChannelName } from "./core/types.js";
import type { AddressClass } from "./events/address-guard.js";
import { type FraudSettings, fraudSettingsFrom } from "./fraud/settings.js";
import { SANDBOX_EXEMPT } from "./sandbox/test-numbers.js";
import { type RouteConfig, type TrunkConfig, TrunkSchema } from "./sip/trunks/schema.js";

export type { EmailConfig, InboundConfig, SmsConfig, ViberConfig, VoiceConfig, WhatsAppConfig };

/** Reports a setting a combination needs: `KEY: is required when <when>`. */
export type Missing = (key: string, when: string) => void;

/** The sandbox's default pool: 100,000 numbers, so a 4-digit code spans the whole code space ten times over. */
export const SANDBOX_POOL_NUMBERS = ["+4420794xxxxx"];

/** The virtual carrier's listeners (SANDBOX_*), all on one loopback address; null with SANDBOX=off. */
export interface SandboxConfig {
  address: string;
  sipPort: number;
  smppPort: number;
  smtpPort: number;
}

/** The trunk layer's own settings (SIP_*), beside the trunks themselves (the configuration's `trunks`). */
export interface SipConfig {
  /** our SIP address for trunks that name none: SIP_LOCAL_ADDRESS, else 127.0.0.1 with the sandbox, 0.0.0.0 without */
  localAddress: string;
  /** the shorthand trunk's and the sandbox trunk's local port and domain */
  localPort: number;
  domain: string | undefined;
  /** SIP_ROUTES; none with the sandbox, whose handsets are the one trunk */
  routes: readonly RouteConfig[];
  t1Ms: number;
  ringTimeMs: number;
  maxDialMs: number;
  trace: "off" | "redacted" | "full";
}

/** The default caller-ID pool (POOL_*, or the sandbox's); null when there is none to configure. */
export interface DefaultPoolConfig {
  numbers: string[];
  codeLength: number;
  countries: string[];
}

/** Delivery measurement per network and trunk, and workflow auto's choice (AUTO_*, NETWORKS, NETWORK_PREFIX_DIGITS). */
export interface DeliveryConfig {
  networks: Readonly<Record<string, string>>;
  prefixDigits: Readonly<Record<string, number>>;
  settings: MeasureSettings;
  /** workflow auto's channels after its first step, as far as configured */
  fallback: readonly ChannelName[];
}

/** How this process shares its work (DATABASE_URL, REDIS_*, FRAUD_LIMITER). */
export interface ScaleConfig {
  databaseUrl: string;
  /** SQLite: one server per database (its lease), so what a previous process left in flight is this one's */
  singleServer: boolean;
  /** Redis shared by every process: limits and live-event fan-out; null: this process alone */
  redis: { url: string; prefix: string } | null;
  /** where the fraud controls keep their counters: FRAUD_LIMITER, default Redis when configured, else memory */
  limiter: "memory" | "sqlite" | "redis";
}

/** Outbound requests to the operator's endpoints: webhooks and decision callbacks (WEBHOOK_*). */
export interface WebhookConfig {
  /** address classes they may reach besides public ones */
  allowed: ReadonlySet<AddressClass>;
  timeoutMs: number;
  pollMs: number;
  /** connections open at once to one receiver */
  maxConnections: number;
}

/** A trunk described by the SIP_* shorthand settings rather than SIP_TRUNKS. */
export function shorthandTrunk(
  sip: Pick<SipConfig, "localPort" | "domain">,
  id: string,
  host: string,
  port: number,
): TrunkConfig {
  return TrunkSchema.parse({
    id,
    host,
    port,
    local_port: sip.localPort,
    ...(sip.domain ? { domain: sip.domain } : {}),
  });
}

/** The slices, beside the variables they are parsed from. */
export interface ConfigSlices {
  sandbox: SandboxConfig | null;
  sip: SipConfig;
  /** the carrier's trunks; null with the sandbox, whose handsets are the trunk once they listen */
  trunks: TrunkConfig[] | null;
  pool: DefaultPoolConfig | null;
  sms: SmsConfig;
  whatsapp: WhatsAppConfig | null;
  viber: ViberConfig | null;
  email: EmailConfig | null;
  voice: VoiceConfig | null;
  inbound: InboundConfig | null;
  /** the server's texts: the templates' defaults (OTP_*, EMAIL_SUBJECT, WHATSAPP_TEMPLATE/LANGUAGE) */
  texts: TemplateBookSettings;
  delivery: DeliveryConfig;
  scale: ScaleConfig;
  webhooks: WebhookConfig;
  fraud: FraudSettings;
}

/** Every slice of settings `c` (whose variables each parsed); what a combination lacks is reported to `missing`. */
export function configSlices(c: Settings, missing: Missing): ConfigSlices {
  const sandbox = c.SANDBOX === "on";
  const sip: SipConfig = {
    localAddress: c.SIP_LOCAL_ADDRESS ?? (sandbox ? "127.0.0.1" : "0.0.0.0"),
    localPort: c.SIP_LOCAL_PORT,
    domain: c.SIP_DOMAIN,
    routes: sandbox ? [] : c.SIP_ROUTES,
    t1Ms: c.SIP_T1_MS,
    ringTimeMs: c.SIP_RING_TIME_MS,
    maxDialMs: c.SIP_MAX_DIAL_MS,
    trace: c.SIP_TRACE === "on" ? "redacted" : c.SIP_TRACE,
  };
  const trunks = carrierTrunks(c, sip, missing);
  const poolNumbers = c.POOL_NUMBERS ?? (sandbox ? SANDBOX_POOL_NUMBERS : undefined);
  const fraud: FraudSettings = { ...fraudSettingsFrom(c), ...(sandbox ? { exemptNumbers: SANDBOX_EXEMPT } : {}) };
  return {
    sandbox: sandbox
      ? {
          address: c.SANDBOX_SIP_ADDRESS,
          sipPort: c.SANDBOX_SIP_PORT,
          smppPort: c.SANDBOX_SMPP_PORT,
          smtpPort: c.SANDBOX_SMTP_PORT,
        }
      : null,
    sip,
    trunks,
    pool: poolNumbers ? { numbers: poolNumbers, codeLength: c.POOL_CODE_LENGTH, countries: c.POOL_COUNTRIES } : null,
    sms: smsConfig(c, missing),
    whatsapp: whatsappConfig(c),
    viber: viberConfig(c),
    email: emailConfig(c),
    voice: voiceConfig(c),
    inbound: inboundConfig(c, trunks?.map((t) => t.host) ?? null, missing),
    texts: {
      appName: c.OTP_APP_NAME,
      smsText: c.OTP_TEMPLATE,
      emailSubject: c.EMAIL_SUBJECT,
      whatsapp: { templateName: c.WHATSAPP_TEMPLATE, languageCode: c.WHATSAPP_LANGUAGE },
    },
    delivery: {
      networks: c.NETWORKS,
      prefixDigits: c.NETWORK_PREFIX_DIGITS,
      settings: {
        windowMs: c.AUTO_WINDOW_SECONDS * 1000,
        minSamples: c.AUTO_MIN_SAMPLES,
        minConversion: c.AUTO_MIN_CONVERSION,
        exploration: c.AUTO_EXPLORATION,
        flushMs: c.AUTO_FLUSH_MS,
      },
      fallback: c.AUTO_FALLBACK,
    },
    scale: {
      databaseUrl: c.DATABASE_URL,
      singleServer: c.DATABASE_URL.startsWith("sqlite:"),
      redis: c.REDIS_URL ? { url: c.REDIS_URL, prefix: c.REDIS_PREFIX } : null,
      limiter: c.FRAUD_LIMITER ?? (c.REDIS_URL ? "redis" : "memory"),
    },
    webhooks: {
      allowed: c.WEBHOOK_ALLOW_PRIVATE,
      timeoutMs: c.WEBHOOK_TIMEOUT_MS,
      pollMs: c.WEBHOOK_POLL_MS,
      maxConnections: c.WEBHOOK_MAX_CONNECTIONS,
    },
    fraud,
  };
}

/**
 * The carrier's trunks: SIP_TRUNKS, or the one trunk SIP_TRUNK_HOST, SIP_TRUNK_PORT and SIP_DOMAIN describe; null
 * with the sandbox on, whose handsets are the one trunk once they listen.
 */
function carrierTrunks(c: Settings, sip: SipConfig, missing: Missing): TrunkConfig[] | null {
  if (c.SANDBOX === "on") return null;
  if (c.SIP_TRUNKS?.length) return c.SIP_TRUNKS;
  if (!c.SIP_TRUNK_HOST) {
    missing("SIP_TRUNK_HOST", "SANDBOX=off (or SIP_TRUNKS)");
    return [];
  }
  return [shorthandTrunk(sip, "default", c.SIP_TRUNK_HOST, c.SIP_TRUNK_PORT)];
}
