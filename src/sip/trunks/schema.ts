/**
 * The configuration of carrier trunks and the routes that choose between them: zod schemas that src/config-shape.ts
 * composes into the one configuration (`SIP_TRUNKS`, `SIP_ROUTES`: JSON in the environment, or arrays in the
 * FLASHVERIFY_CONFIG file). Field names are snake_case, like the rest of the configuration file; an invalid field is
 * reported with its path, e.g. `SIP_TRUNKS.1.stir_shaken.attest`.
 */
import { z } from "zod";

const port = z.number().int().min(1).max(65535);
const hostPort = z.object({ host: z.string().min(1), port: port.optional() }).strict();
/** A header name as RFC 3261 allows (token characters). */
const headerName = z.string().regex(/^[A-Za-z0-9!%'*+\-.^_`|~]+$/, "must be a SIP header name");
/** One line: no CR/LF, so a value cannot smuggle in another header. */
const headerValue = z.string().regex(/^[^\r\n]*$/, "must be one line");
const techPrefix = z.string().regex(/^[0-9A-Za-z#*]{1,16}$/, "must be 1-16 of 0-9 A-Z a-z # *");
/** The headers flashverify writes itself; a trunk may not override them. */
const RESERVED_HEADERS =
  /^(via|v|from|f|to|t|call-id|i|cseq|contact|m|max-forwards|content-length|l|content-type|c|identity|privacy|p-asserted-identity)$/i;

export const TrunkSchema = z
  .object({
    /** Names the trunk in routes, attempt records and metrics: letters, digits, `-` and `_`. */
    id: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, "must be 1-40 letters, digits, - or _"),
    /** The carrier's SIP server or SBC: an address, or a name resolved with DNS (SRV when `port` is omitted). */
    host: z.string().min(1),
    port: port.optional(),
    /** Default udp. */
    transport: z.enum(["udp", "tcp", "tls"]).default("udp"),
    /** TLS: trusted CA file (PEM), the name to verify, a client certificate and key (files). */
    tls: z
      .object({
        ca_file: z.string().min(1).optional(),
        servername: z.string().min(1).optional(),
        cert_file: z.string().min(1).optional(),
        key_file: z.string().min(1).optional(),
        /** Default true: a certificate that does not verify ends the connection. */
        reject_unauthorized: z.boolean().default(true),
      })
      .strict()
      .optional(),
    /** Send every request through this proxy; the Request-URI still names the trunk. */
    outbound_proxy: hostPort.optional(),
    /** Host part of the Request-URI, From and To. Default the trunk host. */
    domain: z.string().min(1).optional(),
    /** Our socket for this trunk. Default SIP_LOCAL_ADDRESS and an ephemeral port. */
    local_address: z.string().min(1).optional(),
    local_port: z.number().int().min(0).max(65535).default(0),
    /** Digest credentials (401/407, MD5 or SHA-256). */
    auth: z
      .object({ username: z.string().min(1), password: z.string().min(1), realm: z.string().min(1).optional() })
      .strict()
      .optional(),
    /**
     * How the CLI is written in From and P-Asserted-Identity: `e164` (+442079412345), `e164_no_plus`
     * (442079412345) or `national` (02079412345). Default e164.
     */
    cli_format: z.enum(["e164", "e164_no_plus", "national"]).default("e164"),
    /** How the destination is written in the Request-URI and To, same choices. Default e164. */
    destination_format: z.enum(["e164", "e164_no_plus", "national"]).default("e164"),
    /** Prepended to the CLI user part after formatting, e.g. "99#" (a carrier's account or route selector). */
    tech_prefix: techPrefix.optional(),
    /** Prepended to the destination user part after formatting. */
    destination_tech_prefix: techPrefix.optional(),
    /** Send P-Asserted-Identity with the CLI. Default true. */
    p_asserted_identity: z.boolean().default(true),
    /** A Privacy header value (RFC 3323), e.g. "none" or "id". Default none sent. */
    privacy: z
      .string()
      .regex(/^[A-Za-z;-]+$/, "must be Privacy values such as none, id, header")
      .optional(),
    /** The carrier's own headers, sent on every INVITE, in this order. */
    headers: z
      .record(
        headerName.refine((name) => !RESERVED_HEADERS.test(name), "is written by flashverify itself"),
        headerValue,
      )
      .default({}),
    /** Sign each INVITE with a STIR/SHAKEN Identity header. */
    stir_shaken: z
      .object({
        /** EC P-256 private key, PEM file. */
        key_file: z.string().min(1),
        /** Where verifiers fetch the certificate. */
        x5u: z.string().regex(/^https?:\/\/\S+$/, "must be an http(s) URL"),
        attest: z.enum(["A", "B", "C"]),
      })
      .strict()
      .optional(),
    /** Calls per second this trunk may start (token bucket). Default unlimited. */
    max_cps: z.number().positive().optional(),
    /** Calls the bucket may start at once. Default max_cps / 10, at least 1. */
    burst: z.number().int().min(1).optional(),
    /** Calls in progress at once. Default unlimited. */
    max_concurrent: z.number().int().min(1).optional(),
    /** Calls that may wait for this trunk's limits. Default 1000. */
    queue_size: z.number().int().min(0).default(1000),
    /** How long a call waits for this trunk's limits before it fails over. Default 2000 ms. */
    queue_timeout_ms: z.number().int().min(0).max(60_000).default(2000),
    /**
     * INVITE Timer B: how long an INVITE may go unanswered (no provisional at all) before the trunk counts as failed
     * and the call fails over. Default 64 x SIP_T1_MS (32 s), which is longer than most dial budgets: set it
     * (e.g. 4000) when another trunk should take over a silent one.
     */
    invite_timeout_ms: z.number().int().min(100).max(64_000).optional(),
    /** Consecutive trunk failures that take the trunk out of service. Default 5. */
    breaker_failures: z.number().int().min(1).default(5),
    /** While out of service, an OPTIONS probe every this often; the first answer puts it back. Default 5000 ms. */
    probe_interval_ms: z.number().int().min(100).max(600_000).default(5000),
    /**
     * A 503 with Retry-After takes the trunk out of rotation for that long, at most this many seconds (0 ignores
     * Retry-After). Default 300.
     */
    max_retry_after_s: z.number().int().min(0).max(86_400).default(300),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (t.tls && t.transport !== "tls") {
      ctx.addIssue({ code: "custom", path: ["tls"], message: 'is only used with transport "tls"' });
    }
    if ((t.tls?.cert_file === undefined) !== (t.tls?.key_file === undefined)) {
      ctx.addIssue({ code: "custom", path: ["tls"], message: "cert_file and key_file go together" });
    }
    if (t.burst !== undefined && t.max_cps === undefined) {
      ctx.addIssue({ code: "custom", path: ["burst"], message: "needs max_cps" });
    }
  });

export type TrunkConfig = z.infer<typeof TrunkSchema>;

export const RouteSchema = z
  .object({
    /** Destination prefixes in E.164 ("+44", "+4474"); the longest matching prefix wins. */
    prefixes: z.array(z.string().regex(/^\+[0-9]{1,15}$/, 'must be "+" and digits')).default([]),
    /** ISO countries of the destination ("GB"); used when no route's prefix matches. */
    countries: z.array(z.string().regex(/^[A-Z]{2}$/, "must be an ISO 3166 alpha-2 code")).default([]),
    /**
     * The trunks to try, lowest priority first; within one priority, in a random order weighted by `weight`.
     * Default priority 1, weight 1.
     */
    trunks: z
      .array(
        z
          .object({
            id: z.string().min(1),
            priority: z.number().int().min(0).default(1),
            weight: z.number().int().min(1).max(1000).default(1),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

export type RouteConfig = z.infer<typeof RouteSchema>;

/** A JSON array, from an environment variable (text) or the config file (already parsed). */
function jsonArray<T extends z.ZodType>(item: T) {
  return z.preprocess((value) => {
    if (typeof value !== "string") return value;
    try {
      return JSON.parse(value);
    } catch {
      return value; // reported below as "expected array"
    }
  }, z.array(item));
}

export const TrunksSchema = jsonArray(TrunkSchema);
export const RoutesSchema = jsonArray(RouteSchema);

/** Cross-checks of trunks and routes, as [path, message] pairs for the caller to report. */
export function trunkConfigProblems(trunks: TrunkConfig[], routes: RouteConfig[]): [string[], string][] {
  const problems: [string[], string][] = [];
  const ids = new Set<string>();
  trunks.forEach((t, i) => {
    if (ids.has(t.id)) problems.push([["SIP_TRUNKS", String(i), "id"], `"${t.id}" is used by another trunk`]);
    ids.add(t.id);
  });
  routes.forEach((r, i) => {
    r.trunks.forEach((t, j) => {
      if (!ids.has(t.id)) problems.push([["SIP_ROUTES", String(i), "trunks", String(j), "id"], `no trunk "${t.id}"`]);
    });
  });
  if (routes.length > 0 && trunks.length === 0) problems.push([["SIP_ROUTES"], "needs SIP_TRUNKS"]);
  return problems;
}
