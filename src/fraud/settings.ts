/**
 * The fraud controls' configuration: the zod fragment of the one configuration schema (src/config-shape.ts spreads it
 * in), and the settings the guard runs on, resolved once per application. Every default is documented in README.md,
 * "Fraud controls".
 */
import { z } from "zod";
import type { ChannelName } from "../core/types.js";
import { HIGH_RISK_PREFIXES } from "./high-risk-prefixes.js";
import {
  CHECK_LIMIT_NAMES,
  type CheckLimitName,
  type LimitRule,
  type LimitRules,
  parseLimitRule,
  parseLimitRules,
  START_LIMIT_NAMES,
  type StartLimitName,
} from "./limit-rules.js";
import { DEFAULT_NUMBER_TYPES, type NumberPolicy } from "./number-policy.js";

/**
 * Sends: 5 per number per 10 minutes (the issue's newcomer default); a prefix (10,000 numbers) gets four numbers'
 * worth, an IP or device two numbers' worth. Country and application volume are bounded by the spend caps instead.
 */
export const DEFAULT_START_LIMITS: LimitRules<StartLimitName> = {
  destination: { points: 5, durationSec: 600 },
  prefix: { points: 20, durationSec: 600 },
  country: null,
  ip: { points: 10, durationSec: 600 },
  device: { points: 10, durationSec: 600 },
  application: null,
};

/** Checks: a number's 5 starts x 3 checks, with room; an IP may check for a few numbers. */
export const DEFAULT_CHECK_LIMITS: LimitRules<CheckLimitName> = {
  destination: { points: 20, durationSec: 600 },
  ip: { points: 60, durationSec: 600 },
  application: null,
};

/** Wrong checks per number across its verifications before it is locked out (NIST SP 800-63B allows up to 100). */
export const DEFAULT_CHECK_FAILURES: LimitRule = { points: 10, durationSec: 86_400 };

const limitText = <N extends string>(names: readonly N[]) =>
  z.string().superRefine((text, ctx) => {
    const parsed = parseLimitRules(text, names);
    if (typeof parsed === "string") ctx.addIssue({ code: "custom", message: parsed });
  });
const ruleText = z.string().refine((t) => parseLimitRule(t) !== undefined, "expected points/duration like 10/24h");
const list = z.string().transform((s) =>
  s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean),
);
const countries = list.pipe(z.array(z.union([z.literal("*"), z.string().regex(/^[A-Z]{2}$/, "ISO codes like GB")])));
const numberTypes = list.pipe(z.array(z.string().regex(/^[A-Z_]+$/, "libphonenumber types like MOBILE")));
const usd = z.coerce.number().min(0);

/** What FRAUD_APPLICATIONS may override per application id; each field has the meaning of its FRAUD_* variable. */
const ApplicationOverrides = z
  .object({
    start_limits: limitText(START_LIMIT_NAMES),
    check_limits: limitText(CHECK_LIMIT_NAMES),
    check_failures: ruleText,
    flashcall_countries: countries,
    flashcall_number_types: numberTypes,
    voice_number_types: numberTypes,
    daily_spend_usd: usd,
    daily_spend_country_usd: usd,
  })
  .partial()
  .strict();

// JSON text in an environment variable, or a JSON object in the FLASHVERIFY_CONFIG file.
const applications = z.preprocess(
  (value) => {
    if (typeof value !== "string") return value;
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  },
  z.record(z.string(), ApplicationOverrides, { error: "must be a JSON object keyed by application id" }),
);

/** The FRAUD_* part of the configuration schema. */
export const fraudConfigShape = {
  /** send limits, `name=points/duration` merged over the defaults (destination=5/10m, prefix=20/10m, ip=10/10m, device=10/10m) */
  FRAUD_START_LIMITS: limitText(START_LIMIT_NAMES).default(""),
  /** check limits merged over the defaults (destination=20/10m, ip=60/10m) */
  FRAUD_CHECK_LIMITS: limitText(CHECK_LIMIT_NAMES).default(""),
  /** wrong checks per number before lockout, across verifications; default 10/24h */
  FRAUD_CHECK_FAILURES: ruleText.default("10/24h"),
  /** where counters live: memory (default) or sqlite (the database file; survives restarts) */
  FRAUD_LIMITER: z.enum(["memory", "sqlite", "redis"]).optional(),
  /** refuse a flash call whose guess probability (checks / codes behind the shown prefix) exceeds this; default 1e-3 */
  FRAUD_MAX_GUESS_PROBABILITY: z.coerce.number().gt(0).max(1).default(1e-3),
  /** ISO countries flash calls may reach, or *; default * */
  FRAUD_FLASHCALL_COUNTRIES: countries.default(["*"]),
  /** number types flash calls may reach; default MOBILE,FIXED_LINE_OR_MOBILE */
  FRAUD_FLASHCALL_NUMBER_TYPES: numberTypes.default([...DEFAULT_NUMBER_TYPES.flashcall]),
  /** number types voice calls may reach; default MOBILE,FIXED_LINE_OR_MOBILE,VOIP,FIXED_LINE */
  FRAUD_VOICE_NUMBER_TYPES: numberTypes.default([...DEFAULT_NUMBER_TYPES.voice]),
  /** E.164 prefixes refused besides the shipped high-risk list (src/fraud/high-risk-prefixes.ts) */
  FRAUD_HIGH_RISK_PREFIXES: list
    .pipe(z.array(z.string().regex(/^\+[1-9][0-9]{0,14}$/, "E.164 prefixes like +3712")))
    .default([]),
  /** pumping detector: on (blocks), shadow (records only) or off; default on */
  FRAUD_PUMPING: z.enum(["on", "shadow", "off"]).default("on"),
  /** sliding window of sends vs verifications; default 60 minutes */
  FRAUD_PUMPING_WINDOW_MINUTES: z.coerce.number().int().min(5).max(1440).default(60),
  /** sends to one prefix in the window before its conversion is judged; default 20 */
  FRAUD_PUMPING_MIN_SENDS_PREFIX: z.coerce.number().int().min(1).default(20),
  /** sends to one country in the window before its conversion is judged; default 200 */
  FRAUD_PUMPING_MIN_SENDS_COUNTRY: z.coerce.number().int().min(1).default(200),
  /** conversion below which a prefix or country is blocked; default 0.35 */
  FRAUD_PUMPING_MIN_CONVERSION: z.coerce.number().min(0).max(1).default(0.35),
  /** first block; doubles while the detector keeps tripping, up to 7 days; default 12 h */
  FRAUD_PUMPING_BLOCK_HOURS: z.coerce.number().gt(0).max(168).default(12),
  /** daily spend cap per application at list prices (src/core/rate-card.ts), 0 = none; default 100 USD */
  FRAUD_DAILY_SPEND_USD: usd.default(100),
  /** daily spend cap per application and destination country, 0 = none; default 100 USD */
  FRAUD_DAILY_SPEND_COUNTRY_USD: usd.default(100),
  /** risk score at or above which a start is `challenge`d; default 0.5 */
  FRAUD_RISK_CHALLENGE_SCORE: z.coerce.number().min(0).max(1).default(0.5),
  /** risk score at or above which a start is blocked; default 0.8 */
  FRAUD_RISK_BLOCK_SCORE: z.coerce.number().min(0).max(1).default(0.8),
  /** what a blocking score does: block (an error) or shadow_block (answer as sent, send nothing); default block */
  FRAUD_RISK_BLOCK_ACTION: z.enum(["block", "shadow_block"]).default("block"),
  /** request header a trusted proxy sets to the client IP's country (e.g. cf-ipcountry); default none */
  FRAUD_IP_COUNTRY_HEADER: z
    .string()
    .regex(/^[a-z0-9-]+$/, "a lower-case header name")
    .optional(),
  /** whose X-Forwarded-For to believe for the client IP: off, on (any proxy), or addresses/CIDRs; default off */
  FRAUD_TRUST_PROXY: z.string().default("off"),
  /** per-application overrides, JSON: {"app_id": {"start_limits": "destination=3/10m", "daily_spend_usd": 20}} */
  FRAUD_APPLICATIONS: applications.default({}),
  /** checks allowed per OTP verification, for the OTP channels; default 5 */
  OTP_MAX_CHECKS: z.coerce.number().int().min(1).max(10).default(5),
};

const FraudConfigSchema = z.object(fraudConfigShape);
type FraudConfig = z.infer<typeof FraudConfigSchema>;

/** One application's resolved policy. */
export interface ApplicationPolicy {
  startLimits: LimitRules<StartLimitName>;
  checkLimits: LimitRules<CheckLimitName>;
  checkFailures: LimitRule;
  numbers: Readonly<Record<ChannelName, NumberPolicy>>;
  /** micro-USD per day; null: no cap */
  dailySpendMicros: number | null;
  dailySpendCountryMicros: number | null;
}

export interface PumpingSettings {
  mode: "on" | "shadow" | "off";
  windowMs: number;
  minSendsPrefix: number;
  minSendsCountry: number;
  minConversion: number;
  blockMs: number;
  maxBlockMs: number;
}

export interface RiskSettings {
  challengeScore: number;
  blockScore: number;
  blockAction: "block" | "shadow_block";
}

export interface FraudSettings {
  policyFor(applicationId: string): ApplicationPolicy;
  maxGuessProbability: number;
  highRiskPrefixes: ReadonlySet<string>;
  pumping: PumpingSettings;
  risk: RiskSettings;
  /**
   * numbers whose starts skip the start limits, the risk score and the pumping detector: the sandbox's test
   * numbers and test ranges, only while SANDBOX=on (src/fraud/index.ts); default none
   */
  exemptNumbers?: { has(phone: string): boolean };
}

const micros = (usdAmount: number): number | null => (usdAmount > 0 ? Math.round(usdAmount * 1e6) : null);

/** Message channels send to any country and to the number types each can reach (DEFAULT_NUMBER_TYPES). */
const MESSAGE_NUMBER_POLICIES = {
  sms: { countries: new Set(["*"]), types: new Set(DEFAULT_NUMBER_TYPES.sms) },
  whatsapp: { countries: new Set(["*"]), types: new Set(DEFAULT_NUMBER_TYPES.whatsapp) },
  viber: { countries: new Set(["*"]), types: new Set(DEFAULT_NUMBER_TYPES.viber) },
  email: { countries: new Set(["*"]), types: new Set(DEFAULT_NUMBER_TYPES.email) },
  reverse_flashcall: { countries: new Set(["*"]), types: new Set(DEFAULT_NUMBER_TYPES.reverse_flashcall) },
};

/** Resolves the configuration into settings; per-application policies are built once and kept. */
export function fraudSettingsFrom(config: FraudConfig): FraudSettings {
  const rules = <N extends string>(text: string, names: readonly N[]) =>
    parseLimitRules(text, names) as Partial<Record<N, LimitRule | null>>;
  const base: ApplicationPolicy = {
    startLimits: { ...DEFAULT_START_LIMITS, ...rules(config.FRAUD_START_LIMITS, START_LIMIT_NAMES) },
    checkLimits: { ...DEFAULT_CHECK_LIMITS, ...rules(config.FRAUD_CHECK_LIMITS, CHECK_LIMIT_NAMES) },
    checkFailures: parseLimitRule(config.FRAUD_CHECK_FAILURES) ?? DEFAULT_CHECK_FAILURES,
    numbers: {
      flashcall: {
        countries: new Set(config.FRAUD_FLASHCALL_COUNTRIES),
        types: new Set(config.FRAUD_FLASHCALL_NUMBER_TYPES),
      },
      voice: { countries: new Set(["*"]), types: new Set(config.FRAUD_VOICE_NUMBER_TYPES) },
      ...MESSAGE_NUMBER_POLICIES,
    },
    dailySpendMicros: micros(config.FRAUD_DAILY_SPEND_USD),
    dailySpendCountryMicros: micros(config.FRAUD_DAILY_SPEND_COUNTRY_USD),
  };
  const policies = new Map<string, ApplicationPolicy>();
  for (const [id, o] of Object.entries(config.FRAUD_APPLICATIONS)) {
    policies.set(id, {
      startLimits: { ...base.startLimits, ...rules(o.start_limits ?? "", START_LIMIT_NAMES) },
      checkLimits: { ...base.checkLimits, ...rules(o.check_limits ?? "", CHECK_LIMIT_NAMES) },
      checkFailures: (o.check_failures && parseLimitRule(o.check_failures)) || base.checkFailures,
      numbers: {
        flashcall: {
          countries: o.flashcall_countries ? new Set(o.flashcall_countries) : base.numbers.flashcall.countries,
          types: o.flashcall_number_types ? new Set(o.flashcall_number_types) : base.numbers.flashcall.types,
        },
        voice: {
          countries: base.numbers.voice.countries,
          types: o.voice_number_types ? new Set(o.voice_number_types) : base.numbers.voice.types,
        },
        ...MESSAGE_NUMBER_POLICIES,
      },
      dailySpendMicros: o.daily_spend_usd === undefined ? base.dailySpendMicros : micros(o.daily_spend_usd),
      dailySpendCountryMicros:
        o.daily_spend_country_usd === undefined ? base.dailySpendCountryMicros : micros(o.daily_spend_country_usd),
    });
  }
  const blockMs = config.FRAUD_PUMPING_BLOCK_HOURS * 3_600_000;
  return {
    policyFor: (applicationId) => policies.get(applicationId) ?? base,
    maxGuessProbability: config.FRAUD_MAX_GUESS_PROBABILITY,
    highRiskPrefixes: new Set([...HIGH_RISK_PREFIXES.map((p) => p.prefix), ...config.FRAUD_HIGH_RISK_PREFIXES]),
    pumping: {
      mode: config.FRAUD_PUMPING,
      windowMs: config.FRAUD_PUMPING_WINDOW_MINUTES * 60_000,
      minSendsPrefix: config.FRAUD_PUMPING_MIN_SENDS_PREFIX,
      minSendsCountry: config.FRAUD_PUMPING_MIN_SENDS_COUNTRY,
      minConversion: config.FRAUD_PUMPING_MIN_CONVERSION,
      blockMs,
      maxBlockMs: Math.max(blockMs, 7 * 86_400_000),
    },
    risk: {
      challengeScore: config.FRAUD_RISK_CHALLENGE_SCORE,
      blockScore: config.FRAUD_RISK_BLOCK_SCORE,
      blockAction: config.FRAUD_RISK_BLOCK_ACTION,
    },
  };
}
