/**
 * The block and allow-list entries of every application, held in memory so that screening a start costs a few map
 * lookups. The store is the record; the book is loaded from it at start, refreshed periodically (another node may
 * have written), and updated at once by this process's own writes.
 */
import type { FraudRule } from "../core/ports.js";

const key = (r: Pick<FraudRule, "applicationId" | "list" | "scope" | "value">) =>
  `${r.applicationId}|${r.list}|${r.scope}|${r.value}`;

const active = (r: FraudRule, now: number) => r.expiresAt === null || r.expiresAt > now;

export class RuleBook {
  private readonly byKey = new Map<string, FraudRule[]>();
  private readonly byId = new Map<string, FraudRule>();
  /** applications with any entry: most have none, and their starts skip every lookup */
  private readonly applications = new Set<string>();

  replace(rules: readonly FraudRule[]): void {
    this.byKey.clear();
    this.byId.clear();
    this.applications.clear();
    for (const rule of rules) this.add(rule);
  }

  add(rule: FraudRule): void {
    if (this.byId.has(rule.id)) return;
    this.byId.set(rule.id, rule);
    this.applications.add(rule.applicationId);
    const k = key(rule);
    const list = this.byKey.get(k);
    if (list) list.push(rule);
    else this.byKey.set(k, [rule]);
  }

  remove(id: string): void {
    const rule = this.byId.get(id);
    if (!rule) return;
    this.byId.delete(id);
    const k = key(rule);
    const rest = (this.byKey.get(k) ?? []).filter((r) => r.id !== id);
    if (rest.length > 0) this.byKey.set(k, rest);
    else this.byKey.delete(k);
  }

  get(id: string): FraudRule | undefined {
    return this.byId.get(id);
  }

  /** The active entry of `list` matching the number itself, its longest listed prefix, or its country. */
  match(
    applicationId: string,
    list: FraudRule["list"],
    e164: string,
    country: string,
    now: number,
    includeShadow = false,
  ): FraudRule | undefined {
    if (!this.applications.has(applicationId)) return undefined;
    const find = (scope: FraudRule["scope"], value: string) =>
      this.byKey
        .get(key({ applicationId, list, scope, value }))
        ?.find((r) => active(r, now) && (includeShadow || !r.shadow));
    const number = find("number", e164);
    if (number) return number;
    for (let end = e164.length - 1; end >= 2; end--) {
      const prefix = find("prefix", e164.slice(0, end));
      if (prefix) return prefix;
    }
    return find("country", country);
  }

  /** The newest detector entry for one key, active or not: the last block decides how long the next one lasts. */
  lastDetectorBlock(applicationId: string, scope: FraudRule["scope"], value: string): FraudRule | undefined {
    return this.byKey
      .get(key({ applicationId, list: "block", scope, value }))
      ?.filter((r) => r.source === "detector")
      .at(-1);
  }

  /** An application's active entries of one list, oldest first. */
  list(applicationId: string, list: FraudRule["list"], now: number): FraudRule[] {
    return [...this.byId.values()].filter(
      (r) => r.applicationId === applicationId && r.list === list && active(r, now),
    );
  }
}
