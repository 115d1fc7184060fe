/**
 * The reverse flash call's settings, part of the one configuration schema (src/config.ts). The channel is on when
 * INBOUND_NUMBERS is set, or with SANDBOX=on (whose virtual phones can place calls).
 */
import { z } from "zod";
import { inboundPoolProblem } from "../../core/inbound-pool.js";
import { parseLimitRules } from "../../fraud/limit-rules.js";

const list = (s: string) =>
  s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);
const attestation = z.enum(["A", "B", "none"]);
/** JSON given as text in the environment, or already an object in the FLASHVERIFY_CONFIG file. */
const jsonText = (value: unknown) => {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
};

export const INBOUND_LIMIT_NAMES = ["caller", "number"] as const;

export const ReverseFlashcallConfig = {
  /**
   * the numbers phones are asked to call (E.164 and ranges like +442079460xxx, comma-separated), reaching this server
   * through the trunks; default with SANDBOX=on +44207946099x; without, the channel is off
   */
  INBOUND_NUMBERS: z
    .string()
    .transform((s, ctx) => {
      const numbers = list(s);
      const problem = inboundPoolProblem(numbers);
      if (problem) {
        ctx.addIssue({ code: "custom", message: problem });
        return z.NEVER;
      }
      return numbers;
    })
    .optional(),
  /** `shared` (one number serves many verifications), `leased` (one each) or `auto` (leased from INBOUND_LEASE_FROM numbers); default auto */
  INBOUND_MODE: z.enum(["auto", "shared", "leased"]).default("auto"),
  /** with INBOUND_MODE=auto, pools of at least this many numbers are leased; default 100 */
  INBOUND_LEASE_FROM: z.coerce.number().int().min(1).default(100),
  /** where the inbound SIP listener binds; default SIP_LOCAL_ADDRESS (127.0.0.1 with the sandbox, else 0.0.0.0) */
  INBOUND_SIP_ADDRESS: z.string().min(1).optional(),
  /** its port, UDP and TCP alike; default 5060, and any free port with SANDBOX=on */
  INBOUND_SIP_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** transports it listens on, comma-separated; default udp,tcp */
  INBOUND_SIP_TRANSPORTS: z
    .string()
    .default("udp,tcp")
    .transform((s, ctx) => {
      const transports = list(s);
      if (transports.length === 0 || transports.some((t) => t !== "udp" && t !== "tcp")) {
        ctx.addIssue({ code: "custom", message: "a comma-separated list of udp and tcp" });
        return z.NEVER;
      }
      return transports as ("udp" | "tcp")[];
    }),
  /** SIP over TLS on this port too (0: any free one); needs INBOUND_TLS_CERT_FILE and INBOUND_TLS_KEY_FILE; default off */
  INBOUND_SIP_TLS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** the listener's certificate chain (PEM file) for TLS */
  INBOUND_TLS_CERT_FILE: z.string().min(1).optional(),
  /** its private key (PEM file) */
  INBOUND_TLS_KEY_FILE: z.string().min(1).optional(),
  /**
   * the addresses inbound INVITEs may come from (IPs and CIDRs, comma-separated); any other gets 403; default the
   * configured trunks' hosts (names resolved at start), and the virtual carrier with SANDBOX=on
   */
  INBOUND_TRUSTED_SOURCES: z.string().transform(list).optional(),
  /** the final response every inbound call gets, before answer: free for the caller; default 603 (Decline) */
  INBOUND_REJECT_CODE: z.coerce.number().int().min(400).max(699).default(603),
  /** the STIR/SHAKEN attestation a verifying call needs: A, B (A or B) or none; default none */
  INBOUND_ATTESTATION: attestation.default("none"),
  /** per-application INBOUND_ATTESTATION, JSON: {"app_id": "A"}; default none */
  INBOUND_ATTESTATION_APPLICATIONS: z.preprocess(jsonText, z.record(z.string().min(1), attestation)).default({}),
  /** PEM file of the certificates (STI-CAs or signing certificates) Identity headers are verified against */
  INBOUND_SHAKEN_TRUST_FILE: z.string().min(1).optional(),
  /**
   * rate limits of inbound calls per caller ID and per dialled number, like `caller=10/10m,number=6000/1m`; a call
   * over a limit is rejected unmatched; default caller=10/10m,number=6000/1m
   */
  INBOUND_LIMITS: z
    .string()
    .default("")
    .transform((s, ctx) => {
      const rules = parseLimitRules(s, INBOUND_LIMIT_NAMES);
      if (typeof rules === "string") {
        ctx.addIssue({ code: "custom", message: rules });
        return z.NEVER;
      }
      return rules;
    }),
};
