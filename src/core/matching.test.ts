import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cliFilter, readReportedCli } from "./matching.js";

describe("readReportedCli", () => {
  const cli = "+442079412345";
  const expected = { code: "2345", prefix: "+44207941" };

  it.each([
    "+442079412345",
    "+44 20 7941 2345",
    "0044 20 7941 2345",
    "00442079412345",
    "020 7941 2345",
    "(020) 7941-2345",
    "020.7941.2345",
  ])("reads the full caller ID %s", (input) => {
    expect(readReportedCli(input, "GB", 4)).toEqual(expected);
  });

  it("reads the last N digits alone", () => {
    expect(readReportedCli("2345", "GB", 4)).toEqual({ code: "2345", prefix: null });
    expect(readReportedCli(" 23-45 ", "GB", 4)).toEqual({ code: "2345", prefix: null });
    expect(readReportedCli("012345", "GB", 6)).toEqual({ code: "012345", prefix: null });
  });

  it("rejects non-ASCII digits instead of converting them", () => {
    expect(readReportedCli("٢٣٤٥", "GB", 4)).toBeUndefined(); // Arabic-Indic
    expect(readReportedCli("２３４５", "GB", 4)).toBeUndefined(); // full-width
    expect(readReportedCli("+44 20 7941 ２３４５", "GB", 4)).toBeUndefined();
  });

  it("rejects text that is neither a code nor a number", () => {
    for (const bad of ["", "abcd", "123", "12345x", "+", "1234567890123456789012", "2345; drop table"]) {
      expect(readReportedCli(bad, "GB", 4)).toBeUndefined();
    }
  });

  it("reads any formatting of the CLI to the same code and prefix", () => {
    fc.assert(
      fc.property(fc.constantFrom(" ", "-", ".", ""), fc.constantFrom("+44", "0044", "0"), (sep, lead) => {
        const input = `${lead}20${sep}7941${sep}2345`;
        expect(readReportedCli(input, "GB", 4)).toEqual(expected);
      }),
    );
    expect(cli.slice(-4)).toBe(expected.code);
  });
});

describe("cliFilter", () => {
  it("matches the CLI in international and national form with any code digits", () => {
    const re = new RegExp(cliFilter("+44207941", 4));
    for (const s of ["+442079412345", "00442079419999", "442079410000", "02079410001"]) expect(s).toMatch(re);
    for (const s of ["+442079422345", "+44207941234", "0207941234567"]) expect(s).not.toMatch(re);
  });
});
