import { describe, expect, it } from "vitest";
import { EventLoopLag } from "./load-shedding.js";
import { requestStartMs } from "./start-gate.js";

describe("X-Request-Start", () => {
  it("reads seconds, milliseconds and microseconds since the epoch, with or without t=", () => {
    expect(requestStartMs("t=1733580000123")).toBe(1733580000123);
    expect(requestStartMs("t=1733580000123456")).toBe(1733580000123.456);
    expect(requestStartMs("1733580000")).toBe(1733580000000);
    expect(requestStartMs("t=1733580000.5")).toBe(1733580000000);
  });

  it("ignores what it cannot read", () => {
    expect(requestStartMs("yesterday")).toBeUndefined();
    expect(requestStartMs("t=12")).toBeUndefined();
    expect(requestStartMs("")).toBeUndefined();
  });
});

describe("a stall of the event loop (issue 24)", () => {
  it("counts against what was first seen during it or just after it, not what came later", async () => {
    const lag = new EventLoopLag(0);
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const before = performance.now();
      // Busy for 700 ms: a stopped process, as the loop sees it.
      while (performance.now() - before < 700) {
        // the loop does not run
      }
      const resumed = performance.now();
      expect(lag.stalledBefore(resumed)).toBeGreaterThan(600);
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(lag.stalledBefore(performance.now())).toBeLessThan(100);
    } finally {
      lag.close();
    }
  });
});
