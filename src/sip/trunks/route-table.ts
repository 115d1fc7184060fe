/**
 * Which trunks may carry a call to a destination, in the order to try them. A route matches by the longest
 * destination prefix, else by the destination's country, else a route with neither (the default route). Within a
 * route, lower priority values go first; trunks of one priority are tried in a random order weighted by `weight`,
 * so the traffic splits between them in that proportion.
 *
 * Without routes, every trunk serves every destination, tried in the order they are listed.
 *
 * Measured delivery may adjust this per call (`judge`): a trunk's weight is scaled by how well its calls to the
 * destination's network convert, and a trunk failing there is tried after every other candidate.
 *
 * @example
 * const table = new RouteTable([{ prefixes: ["+44"], countries: [], trunks: [{ id: "a", priority: 1, weight: 1 }] }]);
 * table.candidates("+447400123456"); // ["a"]
 */
import { parsePhoneNumberFromString } from "libphonenumber-js/max";

export interface RouteEntry {
  id: string;
  priority: number;
  weight: number;
}

export interface Route {
  prefixes: readonly string[];
  countries: readonly string[];
  trunks: readonly RouteEntry[];
}

export class RouteTable {
  /** Prefix -> route, searched from the longest prefix down. */
  private readonly byPrefix = new Map<string, Route>();
  private readonly longestPrefix: number;
  private readonly byCountry = new Map<string, Route>();
  private readonly fallback: Route | undefined;

  constructor(
    routes: readonly Route[],
    /** Used when there are no routes: one default route over these trunks, in this order. */
    trunkIds: readonly string[] = [],
    private readonly random: () => number = Math.random,
    private readonly judge?: (to: string, trunk: string) => { factor: number; failing: boolean },
  ) {
    for (const route of routes) {
      for (const prefix of route.prefixes) if (!this.byPrefix.has(prefix)) this.byPrefix.set(prefix, route);
      for (const country of route.countries) if (!this.byCountry.has(country)) this.byCountry.set(country, route);
    }
    this.longestPrefix = Math.max(0, ...[...this.byPrefix.keys()].map((p) => p.length));
    this.fallback =
      routes.length === 0
        ? { prefixes: [], countries: [], trunks: trunkIds.map((id, i) => ({ id, priority: i, weight: 1 })) }
        : routes.find((r) => r.prefixes.length === 0 && r.countries.length === 0);
  }

  /** Trunk ids to try for `to` (E.164), first choice first; empty when no route serves it. */
  candidates(to: string): string[] {
    const route = this.match(to);
    if (!route) return [];
    const judge = this.judge;
    if (!judge || route.trunks.length === 1) return this.order(route.trunks);
    const failing = new Set<string>();
    const entries = route.trunks.map((entry) => {
      const judged = judge(to, entry.id);
      if (judged.failing) failing.add(entry.id);
      return { ...entry, weight: entry.weight * judged.factor };
    });
    const ordered = this.order(entries);
    return [...ordered.filter((id) => !failing.has(id)), ...ordered.filter((id) => failing.has(id))];
  }

  private match(to: string): Route | undefined {
    for (let length = Math.min(this.longestPrefix, to.length); length >= 2; length--) {
      const route = this.byPrefix.get(to.slice(0, length));
      if (route) return route;
    }
    if (this.byCountry.size > 0) {
      const country = parsePhoneNumberFromString(to)?.country;
      const route = country ? this.byCountry.get(country) : undefined;
      if (route) return route;
    }
    return this.fallback;
  }

  /** By priority; within a priority, a weighted random order (each pick proportional to weight among the rest). */
  private order(entries: readonly RouteEntry[]): string[] {
    if (entries.length === 1) return [(entries[0] as RouteEntry).id];
    const sorted = [...entries].sort((a, b) => a.priority - b.priority);
    const ids: string[] = [];
    let i = 0;
    while (i < sorted.length) {
      let j = i;
      while (j < sorted.length && (sorted[j] as RouteEntry).priority === (sorted[i] as RouteEntry).priority) j++;
      const group = sorted.slice(i, j);
      while (group.length > 0) {
        let total = 0;
        for (const e of group) total += e.weight;
        let pick = this.random() * total;
        let k = 0;
        while (k < group.length - 1 && pick >= (group[k] as RouteEntry).weight) {
          pick -= (group[k] as RouteEntry).weight;
          k++;
        }
        ids.push((group[k] as RouteEntry).id);
        group.splice(k, 1);
      }
      i = j;
    }
    return ids;
  }
}
