/**
 * The limiter on Redis shared by every server process: rate-limiter-flexible's RateLimiterRedis for single
 * counters, and for a screening's steps one Lua script that runs them all in one round trip, on the same keys and
 * with the same arithmetic (set-if-absent with the window's expiry, INCRBY, PTTL), so both see one set of counters.
 * A script runs atomically, but that is not what it is for: the steps would be consistent one at a time too.
 *
 * @example
 * const limiter = new RedisLimiter(redis, "flashverify");
 * await limiter.run([{ op: "consume", name: "start.destination", rule, key: "app_default|+447400123456" }]);
 */
import type { Redis } from "ioredis";
import { FlexibleLimiter, type LimitDecision, type LimitStep, redisBackend } from "./limiter.js";

// KEYS: one per step. ARGV, four per step: "c" (consume) or "p" (peek), points, window seconds, the rule's points.
// Returns two integers per step run: points consumed in the window (-1: a peek found none) and its PTTL.
const RUN_STEPS = `
local out = {}
for i = 1, #KEYS do
  local a = (i - 1) * 4
  local sec = tonumber(ARGV[a + 3])
  local limit = tonumber(ARGV[a + 4])
  local consumed, ttl
  if ARGV[a + 1] == 'c' then
    if sec > 0 then redis.call('set', KEYS[i], 0, 'EX', sec, 'NX') end
    consumed = redis.call('incrby', KEYS[i], ARGV[a + 2])
    ttl = redis.call('pttl', KEYS[i])
    if ttl == -1 and sec > 0 then
      redis.call('expire', KEYS[i], sec)
      ttl = 1000 * sec
    end
    out[#out + 1] = consumed
    out[#out + 1] = ttl
    if consumed > limit then return out end
  else
    local value = redis.call('get', KEYS[i])
    if value then
      consumed = tonumber(value)
      out[#out + 1] = consumed
      out[#out + 1] = redis.call('pttl', KEYS[i])
      if consumed >= limit then return out end
    else
      out[#out + 1] = -1
      out[#out + 1] = -1
    end
  end
end
return out
`;

type RunSteps = (keys: string[], args: string[]) => Promise<number[]>;

export class RedisLimiter extends FlexibleLimiter {
  private readonly runSteps: RunSteps;

  /** @param namespace the keys' prefix (REDIS_PREFIX); default "flashverify" */
  constructor(client: Redis, namespace = "flashverify") {
    super(redisBackend(client, namespace));
    // defineCommand sends EVALSHA, and the script itself only when Redis does not have it yet.
    client.defineCommand("flashverifyRunLimits", { lua: RUN_STEPS });
    const command = (client as unknown as Record<string, (...args: unknown[]) => Promise<number[]>>)
      .flashverifyRunLimits as (...args: unknown[]) => Promise<number[]>;
    this.runSteps = (keys, args) => command.call(client, keys.length, ...keys, ...args);
  }

  override async run(steps: readonly LimitStep[]): Promise<(LimitDecision | undefined)[]> {
    if (steps.length === 0) return [];
    const keys: string[] = [];
    const args: string[] = [];
    for (const step of steps) {
      // The key rate-limiter-flexible gives the same rule and key.
      keys.push(this.limiter(step.name, step.rule).getKey(step.key));
      args.push(step.op === "consume" ? "c" : "p", String(step.points ?? 1), String(Math.floor(step.rule.durationSec)));
      args.push(String(step.rule.points));
    }
    const out = await this.runSteps(keys, args);
    const decisions: (LimitDecision | undefined)[] = [];
    for (let i = 0; i < out.length / 2; i++) {
      const step = steps[i] as LimitStep;
      const consumed = Number(out[2 * i]);
      const msBeforeNext = Number(out[2 * i + 1]);
      if (step.op === "peek") {
        decisions.push(consumed < 0 ? undefined : { allowed: consumed < step.rule.points, consumed, msBeforeNext });
      } else {
        decisions.push({ allowed: consumed <= step.rule.points, consumed, msBeforeNext });
      }
    }
    return decisions;
  }
}
