/**
 * The SSRF guard of outbound webhooks and decision callbacks: a URL's host is resolved once, every address is
 * classified, and the request connects only to an address the operator allows (a custom `lookup` pins the socket
 * to the checked address, so a second DNS answer cannot swap it). Private, loopback, link-local, CGNAT,
 * unique-local and reserved ranges are refused unless `WEBHOOK_ALLOW_PRIVATE` names them; an IPv4-mapped or
 * NAT64 IPv6 address counts as the IPv4 address inside it.
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

/** The IPv4 address inside an IPv4-mapped (::ffff:0:0/96) or NAT64 (64:ff9b::/96) IPv6 address. */
function embeddedIpv4(address: string): string | undefined {
  const groups = expandIpv6(address);
  if (!groups) return undefined;
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  const nat64 = groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0);
  if (!mapped && !nat64) return undefined;
  const [hi, lo] = [groups[6] as number, groups[7] as number];
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
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

/** The class of an IP address literal. */
export function classifyAddress(address: string): AddressClass {
  const family = isIP(address);
  if (family === 0) return "reserved";
  if (family === 6) {
    const inner = embeddedIpv4(address);
    if (inner) return classifyAddress(inner);
  }
  const type = family === 4 ? "ipv4" : "ipv6";
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
