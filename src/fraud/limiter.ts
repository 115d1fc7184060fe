/**
 * The limiter port of the fraud controls, and its implementation over rate-limiter-flexible. A backend is anything
 * that builds a rate-limiter-flexible limiter for a rule: Redis when the scale configuration supplies a client
 * (RateLimiterRedis takes the same options plus `storeClient`), so a new backend is one more `LimiterBackend`
 * function. Counters in this process's memory (the default) are `MemoryLimiter`'s, which holds a key in a fraction
 * of rate-limiter-flexible's memory store; counters in the SQLite database are the store's writer's
 * (storage/sqlite-limiter.ts), since a write on the main connection would wait on the writer thread's commits.
 *
 * @example
 * const limiter = new FlexibleLimiter(redisBackend(redis));
 * await limiter.consume("start.destination", { points: 5, durationSec: 600 }, "app_default|+447400123456");
 */
import type { Redis } from "ioredis";
import { type RateLimiterAbstract, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import type { LimitRule } from "./limit-rules.js";

export interface LimitDecision {
  allowed: boolean;
  /** points used in the current window, this call's included */
  consumed: number;
  /** until the window resets (and Retry-After when refused) */
  msBeforeNext: number;
}

/** One step of a screening: spend `points` (default 1) of a key, or read its window. */
export interface LimitStep {
  op: "consume" | "peek";
  name: string;
  rule: LimitRule;
  key: string;
  points?: number;
}

/** Counts events per key and rule. Implementations throw when their backend fails (callers decide open or closed). */
export interface Limiter {
  /** Spends `points` (default 1) of `key` under `rule`; refused once the window's points are spent. */
  consume(name: string, rule: LimitRule, key: string, points?: number): Promise<LimitDecision>;
  /** The key's current window without spending anything; undefined when it has none. */
  peek(name: string, rule: LimitRule, key: string): Promise<LimitDecision | undefined>;
  /** Gives back points spent for something that did not happen after all. */
  refund(name: string, rule: LimitRule, key: string, points: number): Promise<void>;
  /**
   * Runs `steps` in order and stops after the first that finds its key spent (a refused consume, or a peek at or
   * over the rule's points): the steps after it spend nothing. Resolves with the decisions of the steps it ran, a
   * peek of a key without a window as undefined. A shared backend does it in one round trip.
   */
  run(steps: readonly LimitStep[]): Promise<(LimitDecision | undefined)[]>;
}

/** `Limiter.run` as consecutive calls, for backends without a round trip to save. */
export async function runInOrder(
  limiter: Limiter,
  steps: readonly LimitStep[],
): Promise<(LimitDecision | undefined)[]> {
  const decisions: (LimitDecision | undefined)[] = [];
  for (const step of steps) {
    const decision =
      step.op === "consume"
        ? await limiter.consume(step.name, step.rule, step.key, step.points)
        : await limiter.peek(step.name, step.rule, step.key);
    decisions.push(decision);
    if (decision && !decision.allowed) break;
  }
  return decisions;
}

/** Builds a rate-limiter-flexible limiter for one rule; `keyPrefix` separates rules sharing one store. */
export type LimiterBackend = (options: { keyPrefix: string; points: number; duration: number }) => RateLimiterAbstract;

/**
 * Counters in Redis, shared by every server process (REDIS_URL). The client must not queue commands while
 * disconnected (`enableOfflineQueue: false`): a limit that cannot be counted then fails at once, and the guard
 * refuses sends and checks (503) instead of letting them through uncounted.
 */
export function redisBackend(client: Redis, namespace = "flashverify"): LimiterBackend {
  return (options) =>
    new RateLimiterRedis({ ...options, keyPrefix: `${namespace}:${options.keyPrefix}`, storeClient: client });
}

export class FlexibleLimiter implements Limiter {
  private readonly limiters = new Map<string, RateLimiterAbstract>();

  constructor(private readonly backend: LimiterBackend) {}

  protected limiter(name: string, rule: LimitRule): RateLimiterAbstract {
    // One limiter per rule: two applications with different rules for one name must not share counters.
    const id = `${name}:${rule.points}/${rule.durationSec}`;
    let limiter = this.limiters.get(id);
    if (!limiter) {
      limiter = this.backend({ keyPrefix: id, points: rule.points, duration: rule.durationSec });
      this.limiters.set(id, limiter);
    }
    return limiter;
  }

  async consume(name: string, rule: LimitRule, key: string, points = 1): Promise<LimitDecision> {
    try {
      const res = await this.limiter(name, rule).consume(key, points);
      return { allowed: true, consumed: res.consumedPoints, msBeforeNext: res.msBeforeNext };
    } catch (error) {
      // rate-limiter-flexible rejects with a RateLimiterRes when the points are spent, with an Error when its store fails.
      if (error instanceof RateLimiterRes) {
        return { allowed: false, consumed: error.consumedPoints, msBeforeNext: error.msBeforeNext };
      }
      throw error;
    }
  }

  async peek(name: string, rule: LimitRule, key: string): Promise<LimitDecision | undefined> {
    const res = await this.limiter(name, rule).get(key);
    if (!res) return undefined;
    return { allowed: res.consumedPoints < rule.points, consumed: res.consumedPoints, msBeforeNext: res.msBeforeNext };
  }

  async refund(name: string, rule: LimitRule, key: string, points: number): Promise<void> {
    await this.limiter(name, rule).reward(key, points);
  }

  run(steps: readonly LimitStep[]): Promise<(LimitDecision | undefined)[]> {
    return runInOrder(this, steps);
  }
}
