/**
 * Where the fraud controls keep their counters (FRAUD_LIMITER): Redis when it is configured, since processes sharing
 * a database must share their limits; the SQLite database itself, in its own table, counted by the store's writer; or
 * this process's memory. A test may hand in a backend of its own.
 */
import type { Redis } from "ioredis";
import type { ScaleConfig } from "../config-slices.js";
import { FlexibleLimiter, type Limiter, type LimiterBackend } from "../fraud/limiter.js";
import { MemoryLimiter } from "../fraud/memory-limiter.js";
import { RedisLimiter } from "../fraud/redis-limiter.js";
import type { AppStore } from "../storage/index.js";
import { SqliteLimiter } from "../storage/sqlite-limiter.js";
import { SqliteStore } from "../storage/sqlite-store.js";

export function openLimiter(
  config: ScaleConfig,
  store: AppStore,
  redis: Redis | null,
  backend?: LimiterBackend,
): Limiter {
  if (backend) return new FlexibleLimiter(backend);
  switch (config.limiter) {
    case "sqlite":
      if (!(store instanceof SqliteStore)) throw new Error("FRAUD_LIMITER=sqlite needs a SQLite DATABASE_URL");
      return new SqliteLimiter(store);
    case "redis":
      if (!redis || !config.redis) throw new Error("FRAUD_LIMITER=redis needs REDIS_URL");
      return new RedisLimiter(redis, config.redis.prefix);
    case "memory":
      return new MemoryLimiter();
  }
}
