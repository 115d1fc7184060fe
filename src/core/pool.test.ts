import { describe, expect, it } from "vitest";
import { cliPrefix, maskedPattern, NumberPool, validatePool } from "./pool.js";

const pool = (numbers: string[], codeLength = 4) =>
  new NumberPool({ id: "p", name: "p", numbers, codeLength, countries: ["*"] });

describe("NumberPool", () => {
  it("addresses every number of a range by index", () => {
    const p = pool(["+4420794xxxxx"]);
    expect(p.size).toBe(100_000);
    expect(p.at(0)).toBe("+442079400000");
    expect(p.at(99_999)).toBe("+442079499999");
    expect(() => p.at(100_000)).toThrow(RangeError);
  });

  it("mixes ranges and single numbers", () => {
    const p = pool(["+44207946xx", "+442079460999"]);
    expect(p.size).toBe(101);
    expect(p.at(100)).toBe("+442079460999");
  });

  it("knows its worst-case code space: the fewest codes behind any prefix it shows", () => {
    expect(pool(["+44207946xxxx"]).fewestCodesPerPrefix).toBe(10_000);
    expect(pool(["+4420794xxxxx"]).fewestCodesPerPrefix).toBe(10_000);
    expect(pool(["+4420794xxxxx", "+441632960xx"]).fewestCodesPerPrefix).toBe(100);
    expect(pool(["+442079460123", "+442079470123", "+442079460124"]).fewestCodesPerPrefix).toBe(1);
    expect(pool(["+44207946xxxx"], 6).fewestCodesPerPrefix).toBe(10_000);
  });

  it("counts the codes behind a shown prefix, block by block", () => {
    const p = pool(["+4420794xxxxx", "+441632960xx"]);
    expect(p.codesSharing("+44207941")).toBe(10_000);
    expect(p.codesSharing("+4416329")).toBe(100);
    expect(p.codesSharing("+4416328")).toBe(0);
    expect(pool(["+442079460123", "+442079460124", "+442079470123"]).codesSharing("+44207946")).toBe(2);
  });

  it("draws uniformly enough to touch most of a small pool", () => {
    const p = pool(["+44207946xx"]);
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) seen.add(p.draw());
    expect(seen.size).toBeGreaterThan(95);
    for (const n of seen) expect(n).toMatch(/^\+44207946\d\d$/);
  });

  it("rejects unusable definitions with a reason", () => {
    const base = { id: "p", name: "p", countries: ["*"], codeLength: 4 };
    expect(validatePool({ ...base, numbers: ["+44x207"] })).toMatch(/not an E\.164/);
    expect(validatePool({ ...base, numbers: ["+4420"] })).toMatch(/8\.\.15 digits/);
    expect(validatePool({ ...base, numbers: [] })).toMatch(/at least one/);
    expect(validatePool({ ...base, numbers: ["+4420794xxxxx"], codeLength: 7 })).toMatch(/4\.\.6/);
    expect(validatePool({ ...base, numbers: ["+4420794xxxxx", "+442079412345"] })).toMatch(/overlap/);
    expect(validatePool({ ...base, numbers: ["+4420794xxxxx"] })).toBeUndefined();
  });
});

describe("pattern", () => {
  it("shows the prefix and masks exactly the code digits", () => {
    expect(cliPrefix("+442079412345", 4)).toBe("+44207941");
    expect(maskedPattern("+44207941", 4)).toBe("+44207941****");
  });
});
