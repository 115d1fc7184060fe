import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ExpiringMap } from "./expiring-map.js";

describe("ExpiringMap", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("keeps an entry at least ttl and drops it within ttl * g/(g-1)", () => {
    const map = new ExpiringMap<string, number>(300, 4); // rotates every 100 ms
    map.set("a", 1); // first rotation at 100
    vi.advanceTimersByTime(150);
    map.set("b", 2);
    vi.advanceTimersByTime(249); // t = 399
    expect(map.get("a")).toBe(1);
    vi.advanceTimersByTime(1); // t = 400
    expect(map.get("a")).toBeUndefined(); // lived 400 ms: within [300, 400]
    vi.advanceTimersByTime(99);
    expect(map.get("b")).toBe(2);
    vi.advanceTimersByTime(1); // t = 500
    expect(map.get("b")).toBeUndefined(); // lived 350 ms
    expect(map.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0); // no rotation timer left once empty
  });

  it("clear() empties it and cancels its timer", () => {
    const map = new ExpiringMap<string, number>(300);
    map.set("a", 1);
    map.clear();
    expect(map.get("a")).toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
  });
});
