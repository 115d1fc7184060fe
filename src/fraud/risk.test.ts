import { describe, expect, it } from "vitest";
import { assessRisk, type RiskSignals } from "./risk.js";

const quiet: RiskSignals = {
  destination: { consumed: 1, points: 5 },
  ip: { consumed: 1, points: 10 },
  prefix: { sends: 0, verified: 0, conversion: 1 },
  country: { sends: 0, verified: 0, conversion: 1 },
  minConversion: 0.35,
  minSendsPrefix: 20,
  numberCountry: "GB",
  ipCountry: null,
  newDevice: null,
};
const settings = { challengeScore: 0.5, blockScore: 0.8, blockAction: "block" as const };

describe("assessRisk", () => {
  it("allows a quiet start, with its reason", () => {
    expect(assessRisk(quiet, settings)).toEqual({
      outcome: "allow",
      score: 0,
      factors: [],
      reasons: ["score 0 < challenge threshold 0.5"],
    });
  });

  it("names each factor and adds their weights", () => {
    const risk = assessRisk(
      { ...quiet, destination: { consumed: 3, points: 5 }, ipCountry: "NG", newDevice: true },
      settings,
    );
    expect(risk.factors.map((f) => f.name)).toEqual(["velocity", "ip_country_mismatch", "new_device"]);
    expect(risk).toMatchObject({ outcome: "challenge", score: 0.7 });
  });

  it("blocks (or shadow-blocks) when several signals agree", () => {
    const loud: RiskSignals = {
      ...quiet,
      destination: { consumed: 4, points: 5 },
      prefix: { sends: 12, verified: 0, conversion: 0 },
      country: { sends: 20, verified: 10, conversion: 0.5 },
    };
    expect(assessRisk(loud, settings)).toMatchObject({ outcome: "block", score: 0.9 });
    expect(assessRisk(loud, { ...settings, blockAction: "shadow_block" }).outcome).toBe("shadow_block");
  });
});
