/**
 * The fraud controls' factory: settings from the configuration, a limiter backend, and the guard the core calls.
 *
 * @example
 * const fraud = await createFraudControls(config, { store, clock });
 * new VerificationService({ ..., fraud });
 */
import type { Redis } from "ioredis";
import type { Config } from "../config.js";
import type { Clock, Store } from "../core/ports.js";
import type { RateCard } from "../core/rate-card.js";
import { SANDBOX_EXEMPT } from "../sandbox/test-numbers.js";
import { SqliteStore } from "../storage/sqlite-store.js";
import { FraudControls } from "./guard.js";
import { FlexibleLimiter, type Limiter, type LimiterBackend, sqliteBackend } from "./limiter.js";
import { MemoryLimiter } from "./memory-limiter.js";
import { RedisLimiter } from "./redis-limiter.js";
import { fraudSettingsFrom } from "./settings.js";

export { FraudControls } from "./guard.js";

export async function createFraudControls(
  config: Config,
  deps: {
    store: Store;
    clock: Clock;
    backend?: LimiterBackend;
    /** prices the spend caps reserve; default the shipped card */
    rateCard?: RateCard;
    /** the shared Redis client when REDIS_URL is set */
    redis?: Redis | null;
    onError?: (error: unknown, context: string) => void;
  },
): Promise<FraudControls> {
  let backend = deps.backend;
  // With Redis configured its counters are the default: processes sharing a database must share their limits.
  const kind = config.FRAUD_LIMITER ?? (deps.redis ? "redis" : "memory");
  if (!deps.backend && kind === "sqlite") {
    if (!(deps.store instanceof SqliteStore)) throw new Error("FRAUD_LIMITER=sqlite needs a SQLite DATABASE_URL");
    backend = sqliteBackend(deps.store.db);
  }
  let limiter: Limiter | undefined;
  if (!deps.backend && kind === "redis") {
    if (!deps.redis) throw new Error("FRAUD_LIMITER=redis needs REDIS_URL");
    limiter = new RedisLimiter(deps.redis, config.REDIS_PREFIX);
  }
  limiter ??= backend ? new FlexibleLimiter(backend) : new MemoryLimiter();
  const controls = new FraudControls({
    store: deps.store,
    clock: deps.clock,
    limiter,
    settings: {
      ...fraudSettingsFrom(config),
      ...(config.SANDBOX === "on" ? { exemptNumbers: SANDBOX_EXEMPT } : {}),
    },
    ...(deps.rateCard ? { rateCard: deps.rateCard } : {}),
    ...(deps.onError ? { onError: deps.onError } : {}),
  });
  await controls.start();
  return controls;
}
