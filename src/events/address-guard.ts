/**
 * The SSRF guard of outbound webhooks and decision callbacks: a URL's host is resolved once, every address is
 * classified, and the request connects only to an address the operator allows (a custom `lookup` pins the socket
 * to the checked address, so a second DNS answer cannot swap it). Private, loopback, link-local, CGNAT,
 * site-local, unique-local and reserved ranges are refused unless `WEBHOOK_ALLOW_PRIVATE` names them; an IPv6
 * address that embeds an IPv4 one (mapped, SIIT, IPv4-compatible, NAT64, 6to4) counts as the IPv4 address inside.
 */
import { lookup as dnsLookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";

export const ADDRESS_CLASSES = ["loopback", "private", "link-local", "cgnat", "unique-local", "reserved"] as const;
export type AddressClass = (typeof ADDRESS_CLASSES)[number] | "public";

const ranges: Record<Exclude<AddressClass, "public">, [string, number, "ipv4" | "ipv6"][]> = {
  loopback: [
    ["127.0.0.0", 8, "ipv4"],
    ["::1", 128, "ipv6"],
  ],
  private: [
    ["10.0.0.0", 8, "ipv4"],
    ["172.16.0.0", 12, "ipv4"],
    ["192.168.0.0", 16, "ipv4"],
    // Site-local (RFC 3879 deprecated it, but stacks still route it inside a site)
    ["fec0::", 10, "ipv6"],
  ],
  "link-local": [
    ["169.254.0.0", 16, "ipv4"],
    ["fe80::", 10, "ipv6"],
  ],
  cgnat: [["100.64.0.0", 10, "ipv4"]],
  "unique-local": [["fc00::", 7, "ipv6"]],
  reserved: [
    ["0.0.0.0", 8, "ipv4"],
    ["192.0.0.0", 24, "ipv4"],
    ["192.0.2.0", 24, "ipv4"],
    ["198.18.0.0", 15, "ipv4"],
    ["198.51.100.0", 24, "ipv4"],
    ["203.0.113.0", 24, "ipv4"],
    ["224.0.0.0", 4, "ipv4"],
    ["240.0.0.0", 4, "ipv4"],
    ["::", 128, "ipv6"],
    ["100::", 64, "ipv6"],
    ["2001:db8::", 32, "ipv6"],
    ["ff00::", 8, "ipv6"],
  ],
};

const lists = Object.entries(ranges).map(([name, subnets]) => {
  const list = new BlockList();
  for (const [network, prefix, type] of subnets) list.addSubnet(network, prefix, type);
  return [name as Exclude<AddressClass, "public">, list] as const;
});

/**
 * Where an IPv6 address carries an IPv4 one, as byte offsets of its four octets (RFC 6052 §2.2 for the NAT64
 * layouts: the octet at 8, bits 64-71, is skipped). Each prefix is `[groups to match, layouts]`; a match on any
 * layout is decided by the IPv4 inside, because that is where a translator or relay delivers the request.
 */
const EMBEDDINGS: { name: string; test: (g: readonly number[]) => boolean; layouts: number[][] }[] = [
  // ::ffff:a.b.c.d, IPv4-mapped (RFC 4291 §2.5.5.2)
  { name: "mapped", test: (g) => zero(g, 0, 5) && g[5] === 0xffff, layouts: [[12, 13, 14, 15]] },
  // ::ffff:0:a.b.c.d, SIIT's IPv4-translated (RFC 2765 §2.1)
  { name: "siit", test: (g) => zero(g, 0, 4) && g[4] === 0xffff && g[5] === 0, layouts: [[12, 13, 14, 15]] },
  // ::a.b.c.d, IPv4-compatible (RFC 4291 §2.5.5.1, deprecated but still routed by some stacks); :: and ::1 are
  // classed as themselves first
  { name: "compatible", test: (g) => zero(g, 0, 6), layouts: [[12, 13, 14, 15]] },
  // 64:ff9b::/96, the well-known NAT64 prefix (RFC 6052)
  { name: "nat64", test: (g) => g[0] === 0x64 && g[1] === 0xff9b && zero(g, 2, 6), layouts: [[12, 13, 14, 15]] },
  // 64:ff9b:1::/48, local-use NAT64 (RFC 8215): the operator picks the prefix length inside it, so every layout
  // that fits is read
  {
    name: "nat64-local",
    test: (g) => g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1,
    layouts: [
      [6, 7, 9, 10], // /48
      [7, 9, 10, 11], // /56
      [9, 10, 11, 12], // /64
      [12, 13, 14, 15], // /96
    ],
  },
  // 2002:AABB:CCDD::/48, 6to4 (RFC 3056): the relay forwards to the IPv4 in bits 16-47
  { name: "6to4", test: (g) => g[0] === 0x2002, layouts: [[2, 3, 4, 5]] },
];

function zero(groups: readonly number[], from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (groups[i] !== 0) return false;
  return true;
}

/** The IPv4 addresses an IPv6 address embeds (several for local-use NAT64), or none. */
export function embeddedIpv4(address: string): string[] {
  const groups = expandIpv6(address);
  if (!groups) return [];
  const bytes = groups.flatMap((g) => [g >> 8, g & 255]);
  for (const embedding of EMBEDDINGS) {
    if (embedding.test(groups)) return embedding.layouts.map((l) => l.map((i) => bytes[i]).join("."));
  }
  return [];
}

function expandIpv6(address: string): number[] | undefined {
  let text = address.replace(/^\[|\]$/g, "").split("%")[0] as string;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const parts = (dotted[1] as string).split(".").map(Number);
    const hex = (((parts[0] ?? 0) << 8) | (parts[1] ?? 0)).toString(16);
    const hex2 = (((parts[2] ?? 0) << 8) | (parts[3] ?? 0)).toString(16);
    text = `${text.slice(0, dotted.index)}${hex}:${hex2}`;
  }
  const [head, tail] = text.split("::") as [string, string | undefined];
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 0) return undefined;
  const groups = [...left, ...Array(missing).fill("0"), ...right].map((g) => Number.parseInt(g, 16));
  return groups.some((g) => Number.isNaN(g)) ? undefined : groups;
}

/** Addresses already classified; cleared whole when full (a bound, not an LRU: a refill costs microseconds). */
const classified = new Map<string, AddressClass>();
const CLASSIFIED_MAX = 4096;

/**
 * The class of an IP address literal. An IPv6 address that embeds an IPv4 one (mapped, SIIT, IPv4-compatible,
 * NAT64, 6to4) is classed by the IPv4 inside unless the IPv6 address itself is already refused. Of several
 * readings (local-use NAT64) the first refused one wins; a reading in 0.0.0.0/8 is a layout that does not apply
 * (its field is zero) and counts only when no other reading is left.
 */
export function classifyAddress(address: string): AddressClass {
  const known = classified.get(address);
  if (known !== undefined) return known;
  const kind = classifyUncached(address);
  // Every outbound request classifies its receiver's address, and each BlockList check builds a SocketAddress:
  // 2 to 3% of a webhook's CPU before this (profiled), for an answer that never changes.
  if (classified.size >= CLASSIFIED_MAX) classified.clear();
  classified.set(address, kind);
  return kind;
}

function classifyUncached(address: string): AddressClass {
  const family = isIP(address);
  if (family === 0) return "reserved";
  const own = classifyLiteral(address, family === 4 ? "ipv4" : "ipv6");
  if (family === 4 || own !== "public") return own;
  const readings = embeddedIpv4(address);
  const meaningful = readings.filter((inner) => !inner.startsWith("0."));
  for (const inner of meaningful.length > 0 ? meaningful : readings) {
    const kind = classifyLiteral(inner, "ipv4");
    if (kind !== "public") return kind;
  }
  return "public";
}

function classifyLiteral(address: string, type: "ipv4" | "ipv6"): AddressClass {
  for (const [name, list] of lists) if (list.check(address, type)) return name;
  return "public";
}

/**
 * The classes the operator allows (`WEBHOOK_ALLOW_PRIVATE`, comma-separated, or `all`).
 * @example parseAllowedClasses("loopback") // Set { "loopback" }
 */
export function parseAllowedClasses(text: string): Set<AddressClass> {
  const names = text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.includes("all")) return new Set(ADDRESS_CLASSES);
  for (const name of names) {
    if (!(ADDRESS_CLASSES as readonly string[]).includes(name)) throw new Error(`unknown address class "${name}"`);
  }
  return new Set(names as AddressClass[]);
}

export class AddressRefused extends Error {
  constructor(
    readonly host: string,
    readonly address: string,
    readonly addressClass: AddressClass,
  ) {
    super(`refused: ${host} resolves to ${address} (${addressClass})`);
  }
}

/** Resolves `host` and returns the first address, refusing the host if any of its addresses is not allowed. */
export async function resolveAllowed(
  host: string,
  allowed: ReadonlySet<AddressClass>,
): Promise<{ address: string; family: 4 | 6 }> {
  const bare = host.replace(/^\[|\]$/g, "");
  const answers = isIP(bare)
    ? [{ address: bare, family: isIP(bare) as 4 | 6 }]
    : (await dnsLookup(bare, { all: true, verbatim: true })).map((a) => ({
        address: a.address,
        family: a.family as 4 | 6,
      }));
  // Refusing the whole name when any answer is private keeps a mixed answer from being a way in.
  for (const answer of answers) {
    const kind = classifyAddress(answer.address);
    if (kind !== "public" && !allowed.has(kind)) throw new AddressRefused(bare, answer.address, kind);
  }
  const first = answers[0];
  if (!first) throw new Error(`${bare} has no address`);
  return first;
}

/**
 * Whether a URL could ever be sent to: http(s), no credentials in it, and a literal address (if it is one) of an
 * allowed class. Names are resolved only when sending (DNS may change), where `resolveAllowed` checks them.
 */
export function urlAllowed(url: string, allowed: ReadonlySet<AddressClass>): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return false;
  if (parsed.username || parsed.password) return false;
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  if (isIP(host) === 0) return true;
  const kind = classifyAddress(host);
  return kind === "public" || allowed.has(kind);
}
