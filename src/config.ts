/**
 * Configuration: one zod schema, read once from the environment (and an optional JSON file named by
 * FLASHVERIFY_CONFIG, whose keys are the same variable names), then frozen. Nothing else reads process.env.
 * An invalid value stops the server at start with a message naming the variable.
 */
import { lookup as dnsLookup } from "node:dns/promises";
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import type { z } from "zod";
import { ConfigObject } from "./config-shape.js";
import { configSlices } from "./config-slices.js";
import { NumberPool, validatePool } from "./core/pool.js";
import { classifyAddress } from "./events/address-guard.js";
import { trunkConfigProblems } from "./sip/trunks/schema.js";

export { SANDBOX_POOL_NUMBERS, shorthandTrunk } from "./config-slices.js";

const ConfigSchema = ConfigObject.superRefine((c, ctx) => {
  if (c.POOL_NUMBERS) {
    const pool = { id: "default", name: "default", numbers: c.POOL_NUMBERS, codeLength: c.POOL_CODE_LENGTH };
    const problem = validatePool({ ...pool, countries: c.POOL_COUNTRIES });
    if (problem) ctx.addIssue({ code: "custom", path: ["POOL_NUMBERS"], message: problem });
    else {
      const odds = poolOddsProblem(new NumberPool({ ...pool, countries: c.POOL_COUNTRIES }), c);
      if (odds) ctx.addIssue({ code: "custom", path: ["POOL_NUMBERS"], message: odds });
    }
  }
  // A literal address is decided here; a name only on the addresses it resolves to (assertSandboxHost).
  if (sandboxExposed(c) && isIP(c.HOST) !== 0 && classifyAddress(c.HOST) !== "loopback") {
    ctx.addIssue({ code: "custom", path: ["HOST"], message: SANDBOX_EXPOSED });
  }
  for (const [path, message] of trunkConfigProblems(c.SIP_TRUNKS ?? [], c.SIP_ROUTES)) {
    ctx.addIssue({ code: "custom", path, message });
  }
})
  // The settings that only make sense together, parsed into one checked case each (src/config-slices.ts).
  .transform((c, ctx) => {
    const missing = (key: string, when: string) =>
      ctx.addIssue({ code: "custom", path: [key], message: `is required when ${when}` });
    return { ...c, ...configSlices(c, missing) };
  });

export type Config = Readonly<z.infer<typeof ConfigSchema>>;

/**
 * A pool whose worst-case guess probability is over the bound would have every flash call refused with
 * GUESS_PROBABILITY_TOO_HIGH: say so at start, with the pool size that would do.
 */
function poolOddsProblem(
  pool: NumberPool,
  c: { FLASHCALL_MAX_CHECKS: number; FRAUD_MAX_GUESS_PROBABILITY: number },
): string | undefined {
  const guess = c.FLASHCALL_MAX_CHECKS / pool.fewestCodesPerPrefix;
  if (guess <= c.FRAUD_MAX_GUESS_PROBABILITY) return undefined;
  const needed = Math.ceil(c.FLASHCALL_MAX_CHECKS / c.FRAUD_MAX_GUESS_PROBABILITY);
  // A range ending in n x's puts 10^min(n, code length) numbers behind each prefix it shows.
  const digits = Math.ceil(Math.log10(needed));
  const longer = digits > pool.codeLength ? ` with POOL_CODE_LENGTH=${digits}` : "";
  return (
    `only ${pool.fewestCodesPerPrefix} caller IDs share a shown prefix, so ${c.FLASHCALL_MAX_CHECKS} checks ` +
    `(FLASHCALL_MAX_CHECKS) guess the code with probability ${+guess.toPrecision(3)}, over ` +
    `FRAUD_MAX_GUESS_PROBABILITY=${c.FRAUD_MAX_GUESS_PROBABILITY}, and every flash call would be refused ` +
    `(GUESS_PROBABILITY_TOO_HIGH): list at least ${needed} numbers behind each prefix (ranges ending in ` +
    `${"x".repeat(digits)}${longer}), or lower FLASHCALL_MAX_CHECKS`
  );
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

const SANDBOX_EXPOSED =
  "with SANDBOX=on the server shows every caller ID at /sandbox/phones without credentials; serve it on " +
  "loopback, set SANDBOX=off for real traffic, or SANDBOX_PUBLIC=on for a shared demo";

function sandboxExposed(c: { SANDBOX: string; SANDBOX_PUBLIC: string }): boolean {
  return c.SANDBOX === "on" && c.SANDBOX_PUBLIC === "off";
}

/**
 * Before listening with the sandbox on (and not public): HOST must be loopback on every address it resolves to. A
 * name is judged by its addresses, never by how it is spelled (`127.attacker.example` is not loopback); one that
 * does not resolve is refused too.
 */
export async function assertSandboxHost(
  config: Pick<Config, "HOST" | "SANDBOX" | "SANDBOX_PUBLIC">,
  lookup: (host: string) => Promise<string[]> = resolveAll,
): Promise<void> {
  if (!sandboxExposed(config)) return;
  const host = config.HOST.replace(/^\[|\]$/g, "");
  let addresses: string[];
  try {
    addresses = isIP(host) !== 0 ? [host] : await lookup(host);
  } catch (error) {
    throw new ConfigError(`invalid configuration:\n  HOST: ${host} does not resolve (${(error as Error).message})`);
  }
  const exposed = addresses.find((address) => classifyAddress(address) !== "loopback");
  if (addresses.length === 0 || exposed !== undefined) {
    const where = exposed === undefined ? "no address" : `${exposed}, not loopback`;
    throw new ConfigError(`invalid configuration:\n  HOST: ${host} resolves to ${where}; ${SANDBOX_EXPOSED}`);
  }
}

async function resolveAll(host: string): Promise<string[]> {
  return (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address);
}

/**
 * Parses and freezes the configuration.
 * @param env the environment (default process.env); FLASHVERIFY_CONFIG names an optional JSON file of defaults
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const fromFile = env.FLASHVERIFY_CONFIG ? readConfigFile(env.FLASHVERIFY_CONFIG) : {};
  const known = Object.keys(ConfigObject.shape) as string[];
  const input: Record<string, unknown> = { ...fromFile };
  for (const key of known) {
    const value = env[key];
    if (value !== undefined && value !== "") input[key] = value;
  }
  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".") || "(config)"}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  return Object.freeze(parsed.data);
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(`FLASHVERIFY_CONFIG: cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("not a JSON object");
    // Structured settings (SIP_TRUNKS, SIP_ROUTES) stay structured; the others read like environment strings.
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, typeof v === "string" || typeof v === "object" ? v : String(v)]),
    );
  } catch (error) {
    throw new ConfigError(`FLASHVERIFY_CONFIG: ${path} is not a JSON object of settings: ${(error as Error).message}`);
  }
}
