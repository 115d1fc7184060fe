import { describe, expect, it } from "vitest";
import { CodeHasher, hashToken, tokenHashEquals } from "./codes.js";

describe("CodeHasher", () => {
  const hasher = new CodeHasher("x".repeat(32));

  it("never stores the code: the MAC does not contain it and depends on the attempt", () => {
    const mac = hasher.codeMac("att_1", "2345");
    expect(mac).not.toContain("2345");
    expect(hasher.codeMac("att_2", "2345")).not.toBe(mac);
  });

  it("matches only the right code for the right attempt", () => {
    const mac = hasher.codeMac("att_1", "2345");
    expect(hasher.codeMatches("att_1", "2345", mac)).toBe(true);
    expect(hasher.codeMatches("att_1", "2346", mac)).toBe(false);
    expect(hasher.codeMatches("att_2", "2345", mac)).toBe(false);
    expect(hasher.codeMatches("att_1", "2345", "short")).toBe(false);
  });

  it("keys caller IDs stably without revealing them, and differently under another secret", () => {
    expect(hasher.cliKey("+442079412345")).toBe(hasher.cliKey("+442079412345"));
    expect(hasher.cliKey("+442079412345")).not.toContain("2079412345");
    expect(new CodeHasher("y".repeat(32)).cliKey("+442079412345")).not.toBe(hasher.cliKey("+442079412345"));
  });

  it("refuses a short secret", () => {
    expect(() => new CodeHasher("short")).toThrow(/32/);
  });
});

describe("tokens", () => {
  it("compares token hashes", () => {
    expect(tokenHashEquals(hashToken("ct_a"), hashToken("ct_a"))).toBe(true);
    expect(tokenHashEquals(hashToken("ct_a"), hashToken("ct_b"))).toBe(false);
  });
});
