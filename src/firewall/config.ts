/**
 * The firewall's configuration: one JSON file (`--config FILE`), parsed once by one schema and frozen. An operator
 * lists its contracted verification providers (known senders, with their ranges), the numbers never to flag, the
 * per-call charge the report prices unbilled flash calls at, and the proxy's policy.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";

const prefix = z.string().regex(/^\+[0-9]{1,15}$/, "a number prefix in E.164 form, like +4420794");
const hostPort = z.string().regex(/^[^\s:]+:\d{1,5}$/, "host:port");

const rule = z.discriminatedUnion("action", [
  z.object({ action: z.literal("pass") }),
  z.object({
    action: z.literal("tag"),
    header: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]*$/)
      .default("X-Flashcall"),
  }),
  z.object({
    action: z.literal("reject"),
    code: z.number().int().min(400).max(699).default(603),
    reason: z.string().max(200).default("Flash call"),
  }),
  z.object({ action: z.literal("route"), next_hop: hostPort }),
]);

const policyRule = z.intersection(
  z.object({
    /** applies to INVITE-time scores at or above this; default 0 (every call) */
    min_score: z.number().min(0).max(1).default(0),
    /** "unknown" (default): senders that are neither known nor never-flag */
    sender: z.enum(["unknown", "known", "any"]).default("unknown"),
  }),
  rule,
);

export const firewallConfigSchema = z
  .object({
    /** digits at the end of a caller ID that make up its calling range; default 4 */
    range_digits: z.number().int().min(1).max(8).default(4),
    known_senders: z.array(z.object({ name: z.string().min(1), ranges: z.array(prefix).min(1) })).default([]),
    /** caller prefixes never labelled flash call (emergency services, the operator's own platforms) */
    never_flag: z.array(prefix).default([]),
    /** what the operator would charge per flash call, for the report's revenue column; default 0.01 */
    charge_per_call: z.number().min(0).default(0.01),
    currency: z.string().min(1).max(8).default("EUR"),
    /** first matching rule wins; no match passes */
    policy: z.array(policyRule).default([]),
  })
  .strict();

export type FirewallConfig = z.infer<typeof firewallConfigSchema>;
export type PolicyRule = FirewallConfig["policy"][number];

export const DEFAULT_FIREWALL_CONFIG: FirewallConfig = Object.freeze(firewallConfigSchema.parse({}));

/** Reads and validates a configuration file; the error names the file and the offending fields. */
export function loadFirewallConfig(path: string | undefined): FirewallConfig {
  if (!path) return DEFAULT_FIREWALL_CONFIG;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new TypeError(`${path}: ${(error as Error).message}`);
  }
  const parsed = firewallConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new TypeError(`${path}: ${issues.join("; ")}`);
  }
  return Object.freeze(parsed.data);
}
