/**
 * The reverse flash call's settings, part of the one configuration schema (src/config-shape.ts). The channel is on when
 * INBOUND_NUMBERS is set, or with SANDBOX=on (whose virtual phones can place calls).
 */
import { z } from "zod";
import { jsonText } from "../../config-json.js";
import { type InboundMode, inboundPoolProblem } from "../../core/inbound-pool.js";
import type { AttestationPolicy } from "../../core/reverse-calls.js";
import type { AddressClass } from "../../events/address-guard.js";
import { type LimitRule, parseLimitRules } from "../../fraud/limit-rules.js";

const list = (s: string) =>
  s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);
const attestation = z.enum(["A", "B", "none"]);

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

/** The sandbox's inbound numbers: ten in the London drama range, like its other numbers (shared: fewer than 100). */
export const SANDBOX_INBOUND_NUMBERS = ["+44207946099x"];

type InboundSettings = z.infer<z.ZodObject<typeof ReverseFlashcallConfig>>;

/** The reverse flash call (INBOUND_*): its numbers, its SIP listener and who may reach it, and its policy. */
export interface InboundConfig {
  numbers: readonly string[];
  mode: InboundMode;
  leaseFrom: number;
  listener: {
    address: string;
    port: number;
    transports: ("udp" | "tcp")[];
    tls: { port: number; certFile: string; keyFile: string } | null;
  };
  /** the addresses (IPs, CIDRs, names) inbound INVITEs may come from */
  trustedSources: readonly string[];
  rejectCode: number;
  attestation: AttestationPolicy;
  attestationApplications: Readonly<Record<string, AttestationPolicy>>;
  /** PEM file of the certificates Identity headers are verified against; null: an Identity attests nothing */
  shakenTrustFile: string | null;
  /** address classes x5u fetches may reach besides public ones (WEBHOOK_ALLOW_PRIVATE) */
  allowed: ReadonlySet<AddressClass>;
  limits: Partial<Record<(typeof INBOUND_LIMIT_NAMES)[number], LimitRule | null>>;
}

/**
 * The reverse flash call's case of settings `c`, on when INBOUND_NUMBERS is set or with SANDBOX=on; `trunkHosts` are
 * the carrier's trunks (null: the sandbox's handsets are the trunk). What TLS lacks is an issue either way.
 */
export function inboundConfig(
  c: InboundSettings & {
    SANDBOX: "on" | "off";
    SANDBOX_SIP_ADDRESS: string;
    SIP_LOCAL_ADDRESS?: string | undefined;
    WEBHOOK_ALLOW_PRIVATE: Set<AddressClass>;
  },
  trunkHosts: readonly string[] | null,
  missing: (key: string, when: string) => void,
): InboundConfig | null {
  const { INBOUND_SIP_TLS_PORT: tlsPort, INBOUND_TLS_CERT_FILE: certFile, INBOUND_TLS_KEY_FILE: keyFile } = c;
  let tls: InboundConfig["listener"]["tls"] = null;
  if (tlsPort !== undefined) {
    if (!certFile) missing("INBOUND_TLS_CERT_FILE", "INBOUND_SIP_TLS_PORT is set");
    if (!keyFile) missing("INBOUND_TLS_KEY_FILE", "INBOUND_SIP_TLS_PORT is set");
    if (certFile && keyFile) tls = { port: tlsPort, certFile, keyFile };
  }
  const sandbox = c.SANDBOX === "on";
  const numbers = c.INBOUND_NUMBERS ?? (sandbox ? SANDBOX_INBOUND_NUMBERS : undefined);
  if (!numbers) return null;
  return {
    numbers,
    mode: c.INBOUND_MODE,
    leaseFrom: c.INBOUND_LEASE_FROM,
    listener: {
      address: c.INBOUND_SIP_ADDRESS ?? c.SIP_LOCAL_ADDRESS ?? (sandbox ? "127.0.0.1" : "0.0.0.0"),
      port: c.INBOUND_SIP_PORT ?? (sandbox ? 0 : 5060),
      transports: c.INBOUND_SIP_TRANSPORTS,
      tls,
    },
    trustedSources: c.INBOUND_TRUSTED_SOURCES ?? trunkHosts ?? [c.SANDBOX_SIP_ADDRESS],
    rejectCode: c.INBOUND_REJECT_CODE,
    attestation: c.INBOUND_ATTESTATION,
    attestationApplications: c.INBOUND_ATTESTATION_APPLICATIONS,
    shakenTrustFile: c.INBOUND_SHAKEN_TRUST_FILE ?? null,
    allowed: c.WEBHOOK_ALLOW_PRIVATE,
    limits: c.INBOUND_LIMITS,
  };
}
