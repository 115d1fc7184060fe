import { describe, expect, it } from "vitest";
import { AddressRefused, classifyAddress, parseAllowedClasses, resolveAllowed, urlAllowed } from "./address-guard.js";

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
