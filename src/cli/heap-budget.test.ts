import { describe, expect, it } from "vitest";
import { growingPercent } from "./heap-budget.js";

const MB = 1e6;

describe("growingPercent", () => {
  it("leaves V8 its own choice while four times the live heap fits the budget", () => {
    expect(growingPercent(40 * MB, 160 * MB)).toBe(0);
    expect(growingPercent(1 * MB, 160 * MB)).toBe(0);
  });

  it("asks for the growth that reaches the budget, in whole tens, once it would not", () => {
    expect(growingPercent(50 * MB, 160 * MB)).toBe(220);
    expect(growingPercent(100 * MB, 160 * MB)).toBe(60);
    expect(growingPercent(145 * MB, 160 * MB)).toBe(10);
  });

  it("never asks for less than 10%, also past the budget", () => {
    expect(growingPercent(158 * MB, 160 * MB)).toBe(10);
    expect(growingPercent(400 * MB, 160 * MB)).toBe(10);
  });
});
