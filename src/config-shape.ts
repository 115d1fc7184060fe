/**
 * The settings as users write them: one zod object of environment variable names, with their defaults, ranges and
 * messages (README "Configuration"). src/config.ts checks the combinations and parses them into slices.
 */
import { z } from "zod";
import { MessageChannelsConfig } from "./channels/config.js";
import { ReverseFlashcallConfig } from "./channels/reverse-flashcall/config.js";
import { VoiceChannelConfig } from "./channels/voice/config.js";
import { jsonText } from "./config-json.js";
import { CHANNELS, type ChannelName } from "./core/types.js";
import { parseAllowedClasses } from "./events/address-guard.js";
import { fraudConfigShape } from "./fraud/settings.js";
import { RoutesSchema, TrunksSchema } from "./sip/trunks/schema.js";

const onOff = z.enum(["on", "off"]);

const usdPart = z.number().min(0).max(100);
const countryPrices = z
  .record(
    z.string().regex(/^(?:[A-Z]{2}|DEFAULT)$/, "ISO country codes like GB, or DEFAULT"),
    z.object({ attempt: usdPart, delivered: usdPart }).partial().strict(),
  )
  .optional();
const RateCardSchema = z.preprocess(
  jsonText,
  z
    .object({
      flashcall: countryPrices,
      sms: countryPrices,
      whatsapp: countryPrices,
      viber: countryPrices,
      email: countryPrices,
    })
    .strict(),
);
const port = z.coerce.number().int().min(0).max(65535);
const ms = z.coerce.number().int().min(0);

export const ConfigObject = z.object({
  /** HTTP port; default 8080 */
  PORT: port.default(8080),
  /** HTTP address; default 127.0.0.1 (set 0.0.0.0 to serve other hosts) */
  HOST: z.string().min(1).default("127.0.0.1"),
  /** `sqlite:<path>`; default sqlite:./data/flashverify.db */
  DATABASE_URL: z.string().min(1).default("sqlite:./data/flashverify.db"),
  /** `redis://host:6379`: shared rate limits and live-event fan-out between server processes; default none */
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "a redis:// or rediss:// URL")
    .optional(),
  /** prefix of this deployment's Redis keys and events channel, so deployments can share one Redis; default flashverify */
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, "1 to 64 letters, digits, '_', '.' or '-'")
    .default("flashverify"),
  /** when set, registered at start for the default application (stored hashed) */
  FLASHVERIFY_API_KEY: z.string().min(16, "must be at least 16 characters").optional(),
  /** key of the code and caller-ID HMACs; when unset one is generated once and kept in the database */
  FLASHVERIFY_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  /**
   * the JavaScript heap (MB) the server aims to stay within: V8 grows it freely while little is live, and by at
   * least 10% past what is live once that nears the budget (src/cli/heap-budget.ts); 0 = V8's own choice always
   */
  HEAP_BUDGET_MB: z.coerce.number().int().min(0).max(1_000_000).default(90),
  /** refuse new verifications (503) while the event loop lags more than this; 0 = never; default 250 ms */
  OVERLOAD_MAX_LAG_MS: ms.max(60_000).default(250),
  /**
   * a start that waited longer than this before its turn (since the balancer's X-Request-Start, or unseen while
   * this process was stalled) is refused with 503 before anything is sent: its client has most likely given up,
   * and a retry without an Idempotency-Key would call the user twice; 0 = never; default 3,000 ms
   */
  START_QUEUE_DEADLINE_MS: ms.max(600_000).default(3000),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),

  /** the built-in virtual carrier (SIP handsets on loopback); default on */
  SANDBOX: onOff.default("on"),
  /**
   * serve the sandbox on a non-loopback HOST; default off, because /sandbox/phones shows every call's caller ID
   * (the code) to anyone who asks
   */
  SANDBOX_PUBLIC: onOff.default("off"),
  SANDBOX_SIP_ADDRESS: z.string().default("127.0.0.2"),
  SANDBOX_SIP_PORT: port.default(5060),
  /** the sandbox SMSC (SMPP), on SANDBOX_SIP_ADDRESS; default 2775 */
  SANDBOX_SMPP_PORT: port.default(2775),
  /** the sandbox mailbox (SMTP), on SANDBOX_SIP_ADDRESS; default 2525 */
  SANDBOX_SMTP_PORT: port.default(2525),

  /**
   * carrier trunks (JSON array, see src/sip/trunks/schema.ts and the README's "Connecting a carrier"); when set,
   * SIP_TRUNK_HOST/PORT are not used
   */
  SIP_TRUNKS: TrunksSchema.optional(),
  /** routes choosing trunks by destination prefix or country, priority and weight (JSON array); default all trunks in order */
  SIP_ROUTES: RoutesSchema.default([]),
  /** the carrier trunk or SBC: shorthand for one UDP trunk (SANDBOX=off needs it or SIP_TRUNKS) */
  SIP_TRUNK_HOST: z.string().min(1).optional(),
  SIP_TRUNK_PORT: port.default(5060),
  /** host part of the Request-URI, From and To; default the trunk host */
  SIP_DOMAIN: z.string().min(1).optional(),
  /** local address and port of our SIP socket; default 127.0.0.1 with the sandbox, 0.0.0.0 without; port 0 = any */
  SIP_LOCAL_ADDRESS: z.string().min(1).optional(),
  SIP_LOCAL_PORT: port.default(0),
  /** ring this long after 180/183 before CANCEL; default 1500 ms */
  SIP_RING_TIME_MS: ms.max(30_000).default(1500),
  /** give up on a call that has not rung by then; default 20 s */
  SIP_MAX_DIAL_MS: ms.min(1000).max(60_000).default(20_000),
  /** RFC 3261 T1; Timer B is 64*T1; default 500 ms */
  SIP_T1_MS: ms.min(10).max(5000).default(500),
  /**
   * log every SIP message of every trunk: `on` with credentials, STIR/SHAKEN tokens and caller IDs redacted,
   * `full` as sent and received (a test line only: the caller ID is the code); default off
   */
  SIP_TRACE: z.enum(["off", "on", "full"]).default("off"),

  /**
   * caller-ID numbers of the default pool: ranges like +4420794xxxxx and single numbers, comma-separated.
   * Default with SANDBOX=on: +4420794xxxxx (100,000 numbers); with SANDBOX=off there is no default, because a
   * real trunk may only present numbers you own.
   */
  POOL_NUMBERS: z
    .string()
    .transform((s) =>
      s
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .optional(),
  /** digits of the CLI that form the code, 4..6; default 4 */
  POOL_CODE_LENGTH: z.coerce.number().int().min(4).max(6).default(4),
  /** ISO countries the default pool calls, comma-separated, or *; default * */
  POOL_COUNTRIES: z
    .string()
    .default("*")
    .transform((s) =>
      s
        .split(",")
        .map((x) => x.trim().toUpperCase())
        .filter(Boolean),
    ),

  /**
   * the steps of a verification whose request names none: channels with optional seconds before the next
   * step, e.g. `flashcall:60,sms:120`, or `auto` (chosen per network by measured delivery); default `flashcall`
   */
  WORKFLOW: z
    .string()
    .default("flashcall")
    .transform((s, ctx) => {
      if (s.trim() === "auto") return "auto" as const;
      const steps = [];
      for (const part of s
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean)) {
        const [channel, seconds] = part.split(":");
        if (!(CHANNELS as readonly string[]).includes(channel ?? "")) {
          ctx.addIssue({ code: "custom", message: `unknown channel ${JSON.stringify(channel)}` });
          return z.NEVER;
        }
        if (seconds !== undefined && !/^\d+$/.test(seconds)) {
          ctx.addIssue({ code: "custom", message: `${part}: the timeout is whole seconds` });
          return z.NEVER;
        }
        steps.push({
          channel: channel as ChannelName,
          timeout: seconds === undefined ? undefined : Number(seconds),
        });
      }
      return steps;
    }),
  /** workflow auto: the channels after its first step, as far as configured, comma-separated; default `sms` */
  AUTO_FALLBACK: z
    .string()
    .default("sms")
    .transform((s, ctx) => {
      const channels = s
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean);
      const unknown = channels.find((c) => !(CHANNELS as readonly string[]).includes(c) || c === "flashcall");
      if (unknown !== undefined) {
        ctx.addIssue({ code: "custom", message: `not a fallback channel: ${JSON.stringify(unknown)}` });
        return z.NEVER;
      }
      return channels as ChannelName[];
    }),
  /** how far back delivery is measured, per network and trunk; default 3600 s */
  AUTO_WINDOW_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(7 * 86_400)
    .default(3600),
  /** flash calls a network or trunk needs in the window before it is judged; default 50 */
  AUTO_MIN_SAMPLES: z.coerce.number().int().min(1).max(100_000).default(50),
  /** below this flash-call conversion (its 95% upper bound) auto skips flash calls, trunks are passed over; default 0.3 */
  AUTO_MIN_CONVERSION: z.coerce.number().min(0).max(1).default(0.3),
  /** the share of starts that still try what is below the threshold, so it can recover; default 0.05 */
  AUTO_EXPLORATION: z.coerce.number().min(0).max(1).default(0.05),
  /** how often each node adds its delivery counts to the database and reads the window back; default 1000 ms */
  AUTO_FLUSH_MS: ms.min(50).max(60_000).default(1000),
  /** destination networks by E.164 prefix (JSON), e.g. {"+447520": "GB-DropCo"}; default none */
  NETWORKS: z.preprocess(jsonText, z.record(z.string().regex(/^\+\d{1,14}$/), z.string().min(1).max(64))).default({}),
  /** national digits of a number range per country where NETWORKS names none (JSON, DEFAULT too); default 4 */
  NETWORK_PREFIX_DIGITS: z
    .preprocess(jsonText, z.record(z.string().regex(/^([A-Z]{2}|DEFAULT)$/), z.number().int().min(1).max(12)))
    .default({}),
  /** digits of SMS/WhatsApp/email codes, 4..10; default 6 */
  OTP_LENGTH: z.coerce.number().int().min(4).max(10).default(6),
  /** who the message says sent the code; default flashverify */
  OTP_APP_NAME: z.string().min(1).max(30).default("flashverify"),
  /** the message text, with {app}, {code} and {minutes}; default "Your {app} verification code is {code}. ..." */
  OTP_TEMPLATE: z.string().min(1).max(300).includes("{code}").optional(),
  ...MessageChannelsConfig,
  ...VoiceChannelConfig,
  ...ReverseFlashcallConfig,

  /** how long a flash call's code is accepted; default 60 s, at most 120 s */
  FLASHCALL_TTL_SECONDS: z.coerce.number().int().min(10).max(120).default(60),
  /** lifetime of a whole verification; default and maximum 600 s */
  VERIFICATION_TTL_SECONDS: z.coerce.number().int().min(10).max(600).default(600),
  /** wrong checks allowed per flash-call verification; default 3 */
  FLASHCALL_MAX_CHECKS: z.coerce.number().int().min(1).max(10).default(3),

  /**
   * address classes webhooks, decision callbacks and STIR/SHAKEN x5u fetches may reach besides public ones:
   * comma-separated loopback, private, link-local, cgnat, unique-local, reserved, or all; default none
   */
  WEBHOOK_ALLOW_PRIVATE: z
    .string()
    .default("")
    .transform((s, ctx) => {
      try {
        return parseAllowedClasses(s);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
        return z.NEVER;
      }
    }),
  /** deadline of one webhook request; default 10 s */
  WEBHOOK_TIMEOUT_MS: ms.min(100).max(60_000).default(10_000),
  /** how often the webhook worker looks for due retries when nothing new happened; default 1000 ms */
  WEBHOOK_POLL_MS: ms.min(10).max(60_000).default(1000),
  /**
   * connections open at once to one webhook or decision-callback receiver; requests beyond wait for one, within
   * their deadline; default 64
   */
  WEBHOOK_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(1024).default(64),
  /** how often due timers (expiry, attempts left in flight) are fired; default 250 ms */
  TIMER_INTERVAL_MS: ms.min(10).max(60_000).default(250),
  /** comment lines on idle SSE streams, so proxies keep them open; default 15 s */
  SSE_HEARTBEAT_MS: ms.min(100).max(300_000).default(15_000),
  /** open SSE streams this process serves at once; past it `429 TOO_MANY_STREAMS`; default 10,000 */
  SSE_MAX_STREAMS: z.coerce.number().int().min(1).default(10_000),
  /** open SSE streams of one application (its event stream and its verifications' streams); default 2,000 */
  SSE_MAX_STREAMS_PER_APPLICATION: z.coerce.number().int().min(1).default(2_000),
  /** open SSE streams of one verification; default 10 */
  SSE_MAX_STREAMS_PER_VERIFICATION: z.coerce.number().int().min(1).default(10),
  /**
   * on SIGTERM/SIGINT, how long /readyz answers 503 while the server still serves, so a load balancer's health
   * checks take it out of rotation before its listener closes; default 0
   */
  SHUTDOWN_DRAIN_MS: ms.max(120_000).default(0),
  /** on SIGTERM/SIGINT, how long calls in progress may ring on before they are hung up (CANCEL); default 10 s */
  SHUTDOWN_GRACE_MS: ms.max(120_000).default(10_000),
  /**
   * prices over the shipped rate card (src/core/rate-card.ts), JSON: channel -> country (ISO, or DEFAULT) ->
   * { attempt, delivered } in USD, e.g. {"flashcall": {"RU": {"attempt": 0.004}}}; default the shipped card,
   * which charges delivered sends only
   */
  RATE_CARD: RateCardSchema.default({}),
  /**
   * days after a verification ended that its phone number, email, client (IP, user agent) and provider texts are
   * kept before the retention job removes them (src/core/retention.ts); default 30
   */
  RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** per-application retention days over RETENTION_DAYS, JSON: {"app_id": 7}; default none */
  RETENTION_APPLICATIONS: z
    .preprocess(jsonText, z.record(z.string().min(1), z.number().int().min(1).max(3650)))
    .default({}),
  /** how often the retention job runs; default 1 hour */
  RETENTION_INTERVAL_MS: ms.min(1000).max(86_400_000).default(3_600_000),
  /** fraud controls (FRAUD_*): see src/fraud/settings.ts and README "Fraud controls" */
  ...fraudConfigShape,
});

/** The settings, each parsed on its own (before the combinations are checked). */
export type Settings = z.infer<typeof ConfigObject>;
