import { describe, expect, it } from "vitest";
import { formatLimitRule, parseLimitRule, parseLimitRules, START_LIMIT_NAMES } from "./limit-rules.js";

describe("limit rules", () => {
  it("reads points per duration and turns limits off", () => {
    expect(parseLimitRule("5/10m")).toEqual({ points: 5, durationSec: 600 });
    expect(parseLimitRule("10/24h")).toEqual({ points: 10, durationSec: 86_400 });
    expect(parseLimitRules("destination=3/1d, ip=off", START_LIMIT_NAMES)).toEqual({
      destination: { points: 3, durationSec: 86_400 },
      ip: null,
    });
    expect(parseLimitRules("", START_LIMIT_NAMES)).toEqual({});
  });

  it("names what is wrong", () => {
    for (const bad of ["dest=5/10m", "destination=5", "destination=0/1m", "destination=5/10y", "ip=1/1m=2"]) {
      expect(parseLimitRules(bad, START_LIMIT_NAMES), bad).toEqual(expect.any(String));
    }
  });

  it("writes rules back in the largest whole unit", () => {
    expect(formatLimitRule({ points: 5, durationSec: 600 })).toBe("5/10m");
    expect(formatLimitRule({ points: 10, durationSec: 86_400 })).toBe("10/1d");
    expect(formatLimitRule({ points: 1, durationSec: 90 })).toBe("1/90s");
    expect(formatLimitRule(null)).toBe("off");
  });
});
