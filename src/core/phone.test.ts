import { describe, expect, it } from "vitest";
import { parseCallerId, parseDestination } from "./phone.js";

describe("parseDestination", () => {
  it("reads international numbers with separators", () => {
    expect(parseDestination("+447400123456")).toEqual({ e164: "+447400123456", country: "GB", type: "MOBILE" });
    expect(parseDestination("+44 7400 123-456")).toMatchObject({ e164: "+447400123456", country: "GB" });
    expect(parseDestination("0044 7400 123456")).toMatchObject({ e164: "+447400123456", country: "GB" });
    expect(parseDestination("+1 201 555 0123")?.country).toBe("US");
  });

  it("reads a national number when the country is named, to the same E.164", () => {
    expect(parseDestination("07400 123456", "GB")).toMatchObject({ e164: "+447400123456", country: "GB" });
    expect(parseDestination("+44 7400 123456", "US")).toMatchObject({ e164: "+447400123456", country: "GB" });
    expect(parseDestination("+1 201 555 0123")?.type).toBe("FIXED_LINE_OR_MOBILE");
    expect(parseDestination("+44 56 1234 5678")?.type).toBe("VOIP");
    expect(parseDestination("07400 123456", "gb")).toBeUndefined();
    expect(parseDestination("07400 123456", "US")).toBeUndefined();
  });

  it("refuses what cannot be an E.164 number", () => {
    for (const bad of ["07400123456", "+447700900123", "+44", "hello", "+44 7400 １２３456", "+0447400123456", ""]) {
      expect(parseDestination(bad), bad).toBeUndefined();
    }
  });
});

describe("parseCallerId", () => {
  it("reads national caller IDs in the phone's country", () => {
    expect(parseCallerId("020 7941 2345", "GB")).toBe("+442079412345");
    expect(parseCallerId("+33 1 23 45 67 89", "GB")).toBe("+33123456789");
  });
});
