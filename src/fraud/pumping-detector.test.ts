import { describe, expect, it } from "vitest";
import { PumpingDetector } from "./pumping-detector.js";
import type { PumpingSettings } from "./settings.js";

const settings: PumpingSettings = {
  mode: "on",
  windowMs: 60 * 60_000,
  minSendsPrefix: 10,
  minSendsCountry: 100,
  minConversion: 0.35,
  blockMs: 12 * 3_600_000,
  maxBlockMs: 7 * 86_400_000,
};
const T0 = Date.UTC(2026, 10, 22, 12);
const number = (i: number) => `+4474001${String(i).padStart(5, "0")}`;

describe("PumpingDetector", () => {
  it("trips on a prefix once it has had its minimum volume with low conversion, before counting the next send", () => {
    const d = new PumpingDetector(settings);
    for (let i = 0; i < 10; i++) expect(d.admit("app", number(i), "GB", T0 + i)).toBeUndefined();
    const trip = d.admit("app", number(10), "GB", T0 + 10);
    expect(trip).toMatchObject({ scope: "prefix", value: "+44740010", stats: { sends: 10, verified: 0 } });
    expect(d.stats("app", "prefix", "+44740010", T0 + 10).sends).toBe(10);
  });

  it("lets a prefix that converts keep sending", () => {
    const d = new PumpingDetector(settings);
    for (let i = 0; i < 50; i++) {
      expect(d.admit("app", number(i), "GB", T0 + i)).toBeUndefined();
      if (i % 2 === 0) d.verified("app", number(i), "GB", T0 + i);
    }
  });

  it("keeps applications apart and forgets sends that leave the window", () => {
    const d = new PumpingDetector(settings);
    for (let i = 0; i < 10; i++) d.admit("app", number(i), "GB", T0);
    expect(d.admit("other", number(11), "GB", T0)).toBeUndefined();
    expect(d.admit("app", number(11), "GB", T0 + settings.windowMs + 1)).toBeUndefined();
    expect(d.stats("app", "prefix", "+44740010", T0 + settings.windowMs + 1).sends).toBe(1);
  });

  it("judges a country too, across its prefixes", () => {
    const d = new PumpingDetector({ ...settings, minSendsPrefix: 1_000 });
    for (let i = 0; i < 100; i++) d.admit("app", `+4474${String(i).padStart(2, "0")}123456`, "GB", T0);
    expect(d.admit("app", "+447499123456", "GB", T0)).toMatchObject({ scope: "country", value: "GB" });
  });

  it("takes back a send that did not happen", () => {
    const d = new PumpingDetector(settings);
    d.admit("app", number(1), "GB", T0);
    d.unadmit("app", number(1), "GB", T0);
    expect(d.stats("app", "prefix", "+44740010", T0)).toEqual({ sends: 0, verified: 0, conversion: 1 });
  });
});
