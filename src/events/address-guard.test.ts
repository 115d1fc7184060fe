import { describe, expect, it } from "vitest";
import {
  AddressRefused,
  classifyAddress,
  embeddedIpv4,
  parseAllowedClasses,
  resolveAllowed,
  urlAllowed,
} from "./address-guard.js";

/**
 * Every way of writing an address that embeds or spells another: what each must be classed as. IPv6 forms go to
 * classifyAddress as written; IPv4 literal forms (which URL parsers and inet_aton read as dotted quads) go through
 * a URL and through resolveAllowed, as a webhook URL's host does.
 */
const IPV6_FORMS: [form: string, address: string, expected: string][] = [
  ["IPv4-mapped, dotted", "::ffff:127.0.0.1", "loopback"],
  ["IPv4-mapped, hex", "::ffff:7f00:1", "loopback"],
  ["IPv4-mapped, full", "0:0:0:0:0:ffff:a00:1", "private"],
  ["IPv4-mapped, public", "::ffff:8.8.8.8", "public"],
  ["IPv4-compatible, dotted", "::127.0.0.1", "loopback"],
  ["IPv4-compatible, hex", "::a9fe:a9fe", "link-local"],
  ["IPv4-compatible, private", "::192.168.1.1", "private"],
  ["IPv4-compatible, 0.0.0.5", "::5", "reserved"],
  ["IPv4-compatible, public", "::8.8.8.8", "public"],
  ["SIIT ::ffff:0:0:0/96, dotted", "::ffff:0:127.0.0.1", "loopback"],
  ["SIIT ::ffff:0:0:0/96, hex", "::ffff:0:a00:1", "private"],
  ["SIIT, public", "::ffff:0:8.8.8.8", "public"],
  ["NAT64 64:ff9b::/96, hex", "64:ff9b::a00:1", "private"],
  ["NAT64 64:ff9b::/96, dotted", "64:ff9b::169.254.169.254", "link-local"],
  ["NAT64 64:ff9b::/96, public", "64:ff9b::8.8.8.8", "public"],
  ["local-use NAT64 64:ff9b:1::/48 as /96", "64:ff9b:1::7f00:1", "loopback"],
  ["local-use NAT64 64:ff9b:1::/48 as /64", "64:ff9b:1:0:7f:0:100:0", "loopback"],
  ["local-use NAT64 64:ff9b:1::/48 as /48", "64:ff9b:1:a00:1:0:0:0", "private"],
  ["local-use NAT64, public", "64:ff9b:1::808:808", "public"],
  ["local-use NAT64, zero", "64:ff9b:1::", "reserved"],
  ["6to4 2002::/16, loopback", "2002:7f00:1::1", "loopback"],
  ["6to4 2002::/16, private", "2002:c0a8:101::1", "private"],
  ["6to4 2002::/16, CGNAT", "2002:6440:1::", "cgnat"],
  ["6to4 2002::/16, public", "2002:808:808::1", "public"],
  ["site-local fec0::/10", "fec0::1", "private"],
  ["site-local fec0::/10, upper end", "feff:ffff::1", "private"],
  ["unique-local", "fd00::1", "unique-local"],
  ["link-local", "fe80::1%eth0", "link-local"],
  ["loopback", "::1", "loopback"],
  ["unspecified", "::", "reserved"],
  ["public", "2606:4700::1111", "public"],
];

const IPV4_FORMS: [form: string, host: string, expected: string][] = [
  ["dotted quad", "127.0.0.1", "loopback"],
  ["decimal", "2130706433", "loopback"],
  ["hex", "0x7f000001", "loopback"],
  ["octal", "017700000001", "loopback"],
  ["octal quad", "0177.0.0.1", "loopback"],
  ["hex quad", "0x7f.0x0.0x0.0x1", "loopback"],
  ["short a.b", "127.1", "loopback"],
  ["short a.b.c", "127.0.1", "loopback"],
  ["short private a.b", "10.1", "private"],
  ["octal private", "0300.0250.0.1", "private"],
  ["hex metadata", "0xa9fea9fe", "link-local"],
  ["decimal metadata", "2852039166", "link-local"],
  ["mixed", "0xa9.254.0251.0376", "link-local"],
];

describe("the SSRF guard", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.0.9", "loopback"],
    ["::1", "loopback"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["169.254.169.254", "link-local"],
    ["fe80::1", "link-local"],
    ["100.64.0.1", "cgnat"],
    ["100.127.255.254", "cgnat"],
    ["fd12:3456::1", "unique-local"],
    ["fc00::1", "unique-local"],
    ["0.0.0.0", "reserved"],
    ["::", "reserved"],
    ["224.0.0.1", "reserved"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:a9fe:a9fe", "link-local"],
    ["64:ff9b::a00:1", "private"],
    ["::ffff:8.8.8.8", "public"],
    ["8.8.8.8", "public"],
    ["172.32.0.1", "public"],
    ["100.128.0.1", "public"],
    ["2606:4700::1111", "public"],
  ])("classifies %s as %s", (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });

  it.each(IPV6_FORMS)("decides an IPv6 %s (%s) as %s", (_form, address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
    if (expected !== "public") expect(urlAllowed(`http://[${address.split("%")[0]}]/`, new Set())).toBe(false);
  });

  it.each(IPV4_FORMS)(
    "decides the IPv4 %s form %s as %s, in a URL and when resolved",
    async (_form, host, expected) => {
      const url = `http://${host}/hook`;
      expect(classifyAddress(new URL(url).hostname)).toBe(expected);
      expect(urlAllowed(url, new Set())).toBe(false);
      await expect(resolveAllowed(host, new Set())).rejects.toThrow(`(${expected})`);
    },
  );

  it("reads the IPv4 inside each embedding, and none from a plain IPv6 address", () => {
    expect(embeddedIpv4("2002:c0a8:101::1")).toEqual(["192.168.1.1"]);
    expect(embeddedIpv4("64:ff9b::a00:1")).toEqual(["10.0.0.1"]);
    expect(embeddedIpv4("::ffff:0:7f00:1")).toEqual(["127.0.0.1"]);
    expect(embeddedIpv4("64:ff9b:1::7f00:1")).toContain("127.0.0.1");
    expect(embeddedIpv4("2606:4700::1111")).toEqual([]);
  });

  it("reads the operator's allowances", () => {
    expect(parseAllowedClasses("")).toEqual(new Set());
    expect(parseAllowedClasses("loopback, private")).toEqual(new Set(["loopback", "private"]));
    expect(parseAllowedClasses("all").size).toBe(6);
    expect(() => parseAllowedClasses("intranet")).toThrow(/unknown address class/);
  });

  it("refuses a name that resolves to a refused address, and allows it when the class is allowed", async () => {
    await expect(resolveAllowed("localhost", new Set())).rejects.toBeInstanceOf(AddressRefused);
    await expect(resolveAllowed("127.0.0.60", new Set())).rejects.toThrow(/127\.0\.0\.60 \(loopback\)/);
    await expect(resolveAllowed("[::ffff:127.0.0.1]", new Set())).rejects.toThrow(/loopback/);
    await expect(resolveAllowed("127.0.0.60", new Set(["loopback"]))).resolves.toEqual({
      address: "127.0.0.60",
      family: 4,
    });
  });

  it("refuses URLs that can never be sent to", () => {
    const none = new Set<never>();
    expect(urlAllowed("https://hooks.example.com/x", none)).toBe(true);
    expect(urlAllowed("ftp://hooks.example.com/x", none)).toBe(false);
    expect(urlAllowed("https://user:pw@hooks.example.com/x", none)).toBe(false);
    expect(urlAllowed("http://169.254.169.254/latest/meta-data", none)).toBe(false);
    expect(urlAllowed("http://[::1]:8080/", none)).toBe(false);
    expect(urlAllowed("http://[::1]:8080/", new Set(["loopback"]))).toBe(true);
    expect(urlAllowed("not a url", none)).toBe(false);
  });
});
