/**
 * Finds the next hop for a SIP host the way RFC 3263 §4 does for a known transport: an IP literal as is; a name
 * with a port by A (or AAAA); a name without a port by SRV (`_sip._udp`, `_sip._tcp`, `_sips._tcp`) in priority
 * order, weighted within a priority (RFC 2782), each target by A/AAAA, falling back to A/AAAA of the name itself
 * on the default port.
 *
 * The UAC resolves once at start and again when the records' TTL runs out, never per call. node:dns does not report
 * SRV TTLs, so the refresh follows the address records' TTL (bounded by MIN/MAX_REFRESH_SECONDS).
 *
 * @example
 * const hop = await resolveHop(new Resolver(), { host: "sip.carrier.example" }, "tls", 4);
 * hop.candidates[0]; // { address: "203.0.113.7", port: 5061 }
 */
import { Resolver } from "node:dns/promises";
import { isIP } from "node:net";
import type { SipTransport } from "./types.js";

export interface HopAddress {
  address: string;
  port: number;
}

export interface ResolvedHop {
  /** Addresses to try, best first. */
  candidates: HopAddress[];
  /** When to resolve again; Infinity for an IP literal. */
  refreshSeconds: number;
}

export const MIN_REFRESH_SECONDS = 5;
export const MAX_REFRESH_SECONDS = 3600;

const SRV_PREFIX: Record<SipTransport, string> = { udp: "_sip._udp.", tcp: "_sip._tcp.", tls: "_sips._tcp." };

/** 5060, or 5061 for TLS (RFC 3261 §19.1.2). */
export function defaultPort(transport: SipTransport): number {
  return transport === "tls" ? 5061 : 5060;
}

/** A resolver using the system's servers, or these ("127.0.0.1:5353") when given. */
export function createResolver(servers?: readonly string[]): Resolver {
  const resolver = new Resolver({ timeout: 2000, tries: 2 });
  if (servers?.length) resolver.setServers([...servers]);
  return resolver;
}

/**
 * The addresses for `hop` over `transport`, for sockets of IP `family` (4 or 6).
 * @throws the DNS error when the name has no usable record at all
 */
export async function resolveHop(
  resolver: Resolver,
  hop: { host: string; port?: number | undefined },
  transport: SipTransport,
  family: 4 | 6,
): Promise<ResolvedHop> {
  if (isIP(hop.host)) {
    return { candidates: [{ address: hop.host, port: hop.port ?? defaultPort(transport) }], refreshSeconds: Infinity };
  }
  if (hop.port === undefined) {
    const srv = await resolver.resolveSrv(SRV_PREFIX[transport] + hop.host).catch(noRecords);
    if (srv.length > 0) {
      const candidates: HopAddress[] = [];
      let ttl = MAX_REFRESH_SECONDS;
      for (const record of orderSrv(srv)) {
        const addresses = await addressRecords(resolver, record.name, family).catch(noRecords);
        for (const a of addresses) {
          candidates.push({ address: a.address, port: record.port });
          ttl = Math.min(ttl, a.ttl);
        }
      }
      if (candidates.length > 0) return { candidates, refreshSeconds: clampTtl(ttl) };
    }
  }
  const addresses = await addressRecords(resolver, hop.host, family);
  const port = hop.port ?? defaultPort(transport);
  return {
    candidates: addresses.map((a) => ({ address: a.address, port })),
    refreshSeconds: clampTtl(Math.min(...addresses.map((a) => a.ttl))),
  };
}

async function addressRecords(resolver: Resolver, name: string, family: 4 | 6) {
  const records =
    family === 6 ? await resolver.resolve6(name, { ttl: true }) : await resolver.resolve4(name, { ttl: true });
  if (records.length === 0) throw Object.assign(new Error(`no address for ${name}`), { code: "ENODATA" });
  return records;
}

/** "No such record" is an answer (try the next step); anything else (timeouts, refused) is an error. */
function noRecords(error: NodeJS.ErrnoException): never[] {
  if (error.code === "ENODATA" || error.code === "ENOTFOUND") return [];
  throw error;
}

function clampTtl(ttl: number): number {
  return Math.min(MAX_REFRESH_SECONDS, Math.max(MIN_REFRESH_SECONDS, ttl));
}

interface Srv {
  name: string;
  port: number;
  priority: number;
  weight: number;
}

/**
 * RFC 2782 order: ascending priority; within one priority, a weighted random draw without replacement (weight 0
 * records only after the others, unless all are 0).
 */
export function orderSrv<T extends Srv>(records: readonly T[], random: () => number = Math.random): T[] {
  const byPriority = new Map<number, T[]>();
  for (const r of records) {
    const group = byPriority.get(r.priority);
    if (group) group.push(r);
    else byPriority.set(r.priority, [r]);
  }
  const ordered: T[] = [];
  for (const priority of [...byPriority.keys()].sort((a, b) => a - b)) {
    // Zero weights first in the list, so a zero-sum draw picks them in turn (RFC 2782's running-sum method).
    const group = [...(byPriority.get(priority) ?? [])].sort((a, b) => a.weight - b.weight);
    while (group.length > 0) {
      const total = group.reduce((sum, r) => sum + r.weight, 0);
      const pick = random() * total;
      let running = 0;
      let index = group.findIndex((r) => {
        running += r.weight;
        return running > pick;
      });
      if (index < 0) index = total === 0 ? 0 : group.length - 1;
      ordered.push(group.splice(index, 1)[0] as T);
    }
  }
  return ordered;
}
