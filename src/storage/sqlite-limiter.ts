/**
 * The fraud counters in the server's SQLite database (FRAUD_LIMITER=sqlite, table `rate_limits`), counted by the
 * store's writer: a consume is a write, and one made on the main connection would wait synchronously on the
 * database's lock while the writer thread commits. Each call is one op, run whole inside the writer's transaction,
 * so a check and its increment are atomic however many requests race, and `run` costs one round trip. The rows are
 * rate-limiter-flexible's RateLimiterSQLite's (same keys, same window rule), so counters written by it carry on.
 *
 * @example
 * const limiter = new SqliteLimiter(store);
 * await limiter.consume("start.destination", { points: 5, durationSec: 600 }, "app_default|+447400123456");
 */
import type { LimitRule } from "../fraud/limit-rules.js";
import type { LimitDecision, Limiter, LimitStep } from "../fraud/limiter.js";
import type { LimitStepRow, ResultOf, WriteOp } from "./sqlite-writes.js";

export interface LimitWriter {
  write<O extends WriteOp>(op: O): Promise<ResultOf<O>>;
}

export class SqliteLimiter implements Limiter {
  constructor(private readonly writer: LimitWriter) {}

  async consume(name: string, rule: LimitRule, key: string, points = 1): Promise<LimitDecision> {
    const [decision] = await this.steps([row("consume", name, rule, key, points)]);
    if (!decision) throw new Error("SQLite limiter: a consume answered nothing");
    return decision;
  }

  async peek(name: string, rule: LimitRule, key: string): Promise<LimitDecision | undefined> {
    const [decision] = await this.steps([row("peek", name, rule, key, 0)]);
    return decision;
  }

  async refund(name: string, rule: LimitRule, key: string, points: number): Promise<void> {
    await this.steps([row("refund", name, rule, key, points)]);
  }

  run(steps: readonly LimitStep[]): Promise<(LimitDecision | undefined)[]> {
    if (steps.length === 0) return Promise.resolve([]);
    return this.steps(steps.map((s) => row(s.op, s.name, s.rule, s.key, s.points ?? 1)));
  }

  private async steps(steps: LimitStepRow[]): Promise<(LimitDecision | undefined)[]> {
    const decisions = await this.writer.write({ k: "limit", steps });
    return decisions.map((d) => d ?? undefined);
  }
}

function row(op: LimitStepRow["op"], name: string, rule: LimitRule, key: string, points: number): LimitStepRow {
  // RateLimiterSQLite's row key: its keyPrefix (one per rule, as FlexibleLimiter builds it), a colon, the key.
  return {
    op,
    key: `${name}:${rule.points}/${rule.durationSec}:${key}`,
    points,
    limit: rule.points,
    durationMs: rule.durationSec * 1000,
  };
}
