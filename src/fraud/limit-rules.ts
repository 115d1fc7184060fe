/**
 * Rate-limit rules as operators write them: `destination=5/10m,ip=20/10m,country=off`. Each names a key the limit
 * counts by and how many events it allows per window (`s`, `m`, `h`, `d`). A rule list is merged over the
 * defaults, so configuration names only what it changes.
 *
 * @example
 * parseLimitRules("destination=3/10m,ip=off", START_LIMIT_NAMES); // { destination: { points: 3, durationSec: 600 }, ip: null }
 */

export interface LimitRule {
  points: number;
  durationSec: number;
}

/** The keys sends are counted by. `prefix` is the number without its last 4 digits. */
export const START_LIMIT_NAMES = ["destination", "prefix", "country", "ip", "device", "application"] as const;
/** The keys checks are counted by. */
export const CHECK_LIMIT_NAMES = ["destination", "ip", "application"] as const;

export type StartLimitName = (typeof START_LIMIT_NAMES)[number];
export type CheckLimitName = (typeof CHECK_LIMIT_NAMES)[number];

/** null: that limit is off */
export type LimitRules<N extends string> = Readonly<Record<N, LimitRule | null>>;

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };
const RULE = /^(\d{1,9})\/(\d{1,6})([smhd])$/;

/** Parses one rule (`5/10m`); undefined when it is not one. */
export function parseLimitRule(text: string): LimitRule | undefined {
  const match = RULE.exec(text.trim());
  if (!match) return undefined;
  const points = Number(match[1]);
  const durationSec = Number(match[2]) * (UNITS[match[3] as string] as number);
  if (points < 1 || durationSec < 1) return undefined;
  return { points, durationSec };
}

/** Parses `name=rule,...` (rule `off` turns a limit off); returns an error message for anything else. */
export function parseLimitRules<N extends string>(
  text: string,
  names: readonly N[],
): Partial<Record<N, LimitRule | null>> | string {
  const rules: Partial<Record<N, LimitRule | null>> = {};
  for (const part of text.split(",").map((p) => p.trim())) {
    if (part === "") continue;
    const [name, value, extra] = part.split("=").map((p) => p.trim());
    if (!name || value === undefined || extra !== undefined || !(names as readonly string[]).includes(name)) {
      return `"${part}": expected name=points/duration (names: ${names.join(", ")}; duration like 10m, 24h) or name=off`;
    }
    if (value === "off") {
      rules[name as N] = null;
      continue;
    }
    const rule = parseLimitRule(value);
    if (!rule) return `"${part}": expected points/duration like 5/10m (units s, m, h, d) or off`;
    rules[name as N] = rule;
  }
  return rules;
}

/** `5/10m`, for messages and the policy endpoint. */
export function formatLimitRule(rule: LimitRule | null): string {
  if (rule === null) return "off";
  const d = rule.durationSec;
  const [n, unit] =
    d % 86_400 === 0 ? [d / 86_400, "d"] : d % 3600 === 0 ? [d / 3600, "h"] : d % 60 === 0 ? [d / 60, "m"] : [d, "s"];
  return `${rule.points}/${n}${unit}`;
}
