import { describe, expect, it } from "vitest";
import { ExpiringMap } from "./expiring-map.js";
import { TimerWheel } from "./timer-wheel.js";

describe("ExpiringMap", () => {
  it("keeps an entry at least ttl and drops it within ttl * g/(g-1)", () => {
    let now = 0;
    const wheel = new TimerWheel({ clock: () => now, manual: true });
    const map = new ExpiringMap<string, number>(wheel, 300, 4); // rotates every 100 ms
    const runUntil = (t: number) => {
      for (; now < t; now += 10) wheel.advance();
      wheel.advance();
    };
    map.set("a", 1); // first rotation at 100
    runUntil(150);
    map.set("b", 2);
    runUntil(390);
    expect(map.get("a")).toBe(1);
    runUntil(400);
    expect(map.get("a")).toBeUndefined(); // lived 400 ms: within [300, 400]
    runUntil(490);
    expect(map.get("b")).toBe(2);
    runUntil(500);
    expect(map.get("b")).toBeUndefined(); // lived 350 ms
    expect(map.size).toBe(0);
    expect(wheel.size).toBe(0); // no rotation timer left once empty
  });

  it("clear() empties it and cancels its timer", () => {
    const wheel = new TimerWheel({ clock: () => 0, manual: true });
    const map = new ExpiringMap<string, number>(wheel, 300);
    map.set("a", 1);
    map.clear();
    expect(map.get("a")).toBeUndefined();
    expect(wheel.size).toBe(0);
  });
});
