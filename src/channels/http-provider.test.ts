import { describe, expect, it } from "vitest";
import { parseProviderJson } from "./http-provider.js";

describe("a provider's JSON", () => {
  it("keeps integers a double cannot hold as exact strings, and leaves every other value as JSON reads it", () => {
    const text =
      '{"a":5741311803571721087,"b":"x\\"5741311803571721087","c":1.12345678901234567,"d":-9007199254740993,' +
      '"e":12,"f":[1e300,2E+20,9007199254740991],"g":"\\\\","h":12345678901234567890}';
    expect(parseProviderJson(text)).toEqual({
      a: "5741311803571721087",
      b: 'x"5741311803571721087',
      c: Number("1.12345678901234567"),
      d: "-9007199254740993",
      e: 12,
      f: [1e300, 2e20, 9007199254740991],
      g: "\\",
      h: "12345678901234567890",
    });
  });

  it("refuses what is not JSON, as JSON.parse does", () => {
    expect(() => parseProviderJson("{1234567890123456789}")).toThrow(SyntaxError);
    expect(() => parseProviderJson("not json")).toThrow(SyntaxError);
  });
});
