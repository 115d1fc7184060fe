import { afterEach, describe, expect, it, vi } from "vitest";
import { TimerWheel } from "./timer-wheel.js";

function fakeWheel(options: { tickMs?: number; slots?: number } = {}) {
  let now = 1_000;
  const wheel = new TimerWheel({ ...options, clock: () => now, manual: true });
  const advanceTo = (t: number) => {
    now = t;
    wheel.advance();
  };
  return { wheel, advanceTo, at: () => now };
}

describe("TimerWheel", () => {
  it("fires a timer at or after its due time, never before, within one tick", () => {
    const { wheel, advanceTo } = fakeWheel();
    const fired: number[] = [];
    wheel.schedule(500, () => fired.push(1));
    advanceTo(1_499);
    expect(fired).toEqual([]);
    advanceTo(1_500);
    expect(fired).toEqual([1]);
    expect(wheel.size).toBe(0);
  });

  it("rounds a due time between ticks up, not down", () => {
    const { wheel, advanceTo } = fakeWheel();
    const fired: number[] = [];
    wheel.schedule(505, () => fired.push(1));
    advanceTo(1_505);
    expect(fired).toEqual([]);
    advanceTo(1_510);
    expect(fired).toEqual([1]);
  });

  it("fires in due order across buckets, and cancelled timers never", () => {
    const { wheel, advanceTo } = fakeWheel();
    const fired: string[] = [];
    wheel.schedule(30, () => fired.push("c"));
    wheel.schedule(10, () => fired.push("a"));
    const b = wheel.schedule(20, () => fired.push("b"));
    b.cancel();
    b.cancel(); // idempotent
    expect(wheel.size).toBe(2);
    advanceTo(1_100);
    expect(fired).toEqual(["a", "c"]);
    expect(wheel.size).toBe(0);
  });

  it("keeps timers longer than one turn of the wheel until their round comes", () => {
    const { wheel, advanceTo } = fakeWheel({ tickMs: 10, slots: 8 }); // 80 ms per turn
    const fired: number[] = [];
    wheel.schedule(250, () => fired.push(250));
    for (let t = 1_010; t < 1_250; t += 10) advanceTo(t);
    expect(fired).toEqual([]);
    advanceTo(1_250);
    expect(fired).toEqual([250]);
  });

  it("catches up after a stall longer than a turn", () => {
    const { wheel, advanceTo } = fakeWheel({ tickMs: 10, slots: 8 });
    const fired: number[] = [];
    for (const d of [5, 45, 75, 500]) wheel.schedule(d, () => fired.push(d));
    advanceTo(2_000);
    expect(fired.sort((x, y) => x - y)).toEqual([5, 45, 75, 500]);
  });

  it("lets callbacks schedule and cancel timers, including in the bucket being walked", () => {
    const { wheel, advanceTo } = fakeWheel({ tickMs: 10, slots: 4 });
    const fired: string[] = [];
    const later = wheel.schedule(10, () => fired.push("cancelled-by-first"));
    wheel.schedule(10, () => {
      fired.push("first");
      later.cancel();
      wheel.schedule(0, () => fired.push("next-tick"));
      wheel.schedule(40, () => fired.push("same-slot-next-turn"));
    });
    // Same bucket, cancelled by the callback before its turn: whichever runs first, exactly one of them fires.
    advanceTo(1_010);
    expect(fired.filter((f) => f !== "cancelled-by-first")).toEqual(["first"]);
    advanceTo(1_020);
    expect(fired).toContain("next-tick");
    expect(fired).not.toContain("same-slot-next-turn");
    advanceTo(1_050);
    expect(fired).toContain("same-slot-next-turn");
    expect(wheel.size).toBe(0);
  });

  it("removes cancelled timers from their bucket at once (nothing retained)", () => {
    const { wheel } = fakeWheel();
    const handles = Array.from({ length: 1000 }, (_, i) => wheel.schedule(32_000 + i, () => {}));
    for (const h of handles) h.cancel();
    expect(wheel.size).toBe(0);
    const buckets = (wheel as unknown as { buckets: unknown[][] }).buckets;
    expect(buckets.reduce((n, b) => n + b.length, 0)).toBe(0);
  });

  it("stop() cancels everything, even from inside a callback", () => {
    const { wheel, advanceTo } = fakeWheel();
    const fired: number[] = [];
    wheel.schedule(10, () => {
      fired.push(1);
      wheel.stop();
    });
    wheel.schedule(10, () => fired.push(2));
    wheel.schedule(20, () => fired.push(3));
    advanceTo(1_100);
    expect(fired).toEqual([1]);
    expect(wheel.size).toBe(0);
  });
});

describe("TimerWheel driven by its own interval", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("runs an unref'd interval only while timers are pending", () => {
    vi.useFakeTimers();
    const wheel = new TimerWheel({ clock: () => Date.now() });
    expect(vi.getTimerCount()).toBe(0);
    const fired: number[] = [];
    wheel.schedule(100, () => fired.push(1));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(99);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(20);
    expect(fired).toEqual([1]);
    expect(vi.getTimerCount()).toBe(0);
    const t = wheel.schedule(100, () => fired.push(2));
    t.cancel();
    expect(vi.getTimerCount()).toBe(0);
  });
});
