/**
 * The limiter in this process's memory (FRAUD_LIMITER=memory, the default without Redis): fixed windows, the same
 * counting as rate-limiter-flexible's (a key's window opens with its first event and lasts the rule's duration), at
 * a fraction of its memory. rate-limiter-flexible's memory store arms a timer per key to delete it, about 1 KiB per
 * key and window; a server holding 100,000 live verifications keeps several keys for each, for 10 minutes or a day.
 * Here a key is one map entry, and expired windows are dropped in passing: every rule has one duration, so a map in
 * the order windows opened is also in the order they close, and a sweep stops at the first one still open.
 *
 * @example
 * const limiter = new MemoryLimiter();
 * await limiter.consume("start.destination", { points: 5, durationSec: 600 }, "app_default|+447400123456");
 */
import type { LimitRule } from "./limit-rules.js";
import { type LimitDecision, type Limiter, type LimitStep, runInOrder } from "./limiter.js";

/** expired windows dropped per consume at most: sweeping is spread over the traffic that causes it */
const SWEEP_PER_CONSUME = 8;

class Window {
  constructor(
    public consumed: number,
    public readonly closesAt: number,
  ) {}
}

class RuleWindows {
  /** keys in the order their windows opened, which is the order they close */
  readonly windows = new Map<string, Window>();

  constructor(readonly durationMs: number) {}

  /** The key's open window, dropping it when it has closed. */
  open(key: string, now: number): Window | undefined {
    const w = this.windows.get(key);
    if (w && w.closesAt <= now) {
      this.windows.delete(key);
      return undefined;
    }
    return w;
  }

  sweep(now: number, max: number): void {
    let n = 0;
    for (const [key, w] of this.windows) {
      if (w.closesAt > now || n++ >= max) return;
      this.windows.delete(key);
    }
  }
}

export class MemoryLimiter implements Limiter {
  private readonly rules = new Map<string, RuleWindows>();

  /** @param now the clock windows are measured by; default Date.now */
  constructor(private readonly now: () => number = Date.now) {}

  private rule(name: string, rule: LimitRule): RuleWindows {
    // One set of windows per rule: two applications with different rules for one name must not share counters.
    const id = `${name}:${rule.points}/${rule.durationSec}`;
    let windows = this.rules.get(id);
    if (!windows) {
      windows = new RuleWindows(rule.durationSec * 1000);
      this.rules.set(id, windows);
    }
    return windows;
  }

  async consume(name: string, rule: LimitRule, key: string, points = 1): Promise<LimitDecision> {
    const windows = this.rule(name, rule);
    const now = this.now();
    windows.sweep(now, SWEEP_PER_CONSUME);
    let w = windows.open(key, now);
    if (w) w.consumed += points;
    else {
      w = new Window(points, now + windows.durationMs);
      windows.windows.set(key, w);
    }
    return { allowed: w.consumed <= rule.points, consumed: w.consumed, msBeforeNext: w.closesAt - now };
  }

  async peek(name: string, rule: LimitRule, key: string): Promise<LimitDecision | undefined> {
    const now = this.now();
    const w = this.rule(name, rule).open(key, now);
    if (!w) return undefined;
    return { allowed: w.consumed < rule.points, consumed: w.consumed, msBeforeNext: w.closesAt - now };
  }

  async refund(name: string, rule: LimitRule, key: string, points: number): Promise<void> {
    // A window that has closed has nothing left to give back.
    const w = this.rule(name, rule).open(key, this.now());
    if (w) w.consumed -= points;
  }

  run(steps: readonly LimitStep[]): Promise<(LimitDecision | undefined)[]> {
    return runInOrder(this, steps);
  }

  /** keys held across every rule (for tests and the memory bench) */
  get size(): number {
    let n = 0;
    for (const r of this.rules.values()) n += r.windows.size;
    return n;
  }
}
