/**
 * The fraud controls' factory: the settings the configuration resolved (its `fraud` slice), the limiter the
 * composition root chose, and the guard the core calls.
 *
 * @example
 * const fraud = await createFraudControls(config.fraud, { store, clock });
 * new VerificationService({ ..., fraud });
 */
import type { Clock, Store } from "../core/ports.js";
import type { RateCard } from "../core/rate-card.js";
import { FraudControls } from "./guard.js";
import type { Limiter } from "./limiter.js";
import { MemoryLimiter } from "./memory-limiter.js";
import type { FraudSettings } from "./settings.js";

export { FraudControls } from "./guard.js";

export async function createFraudControls(
  settings: FraudSettings,
  deps: {
    store: Store;
    clock: Clock;
    /** where the counters live (src/root/limiter.ts chooses); default in this process's memory */
    limiter?: Limiter;
    /** prices the spend caps reserve; default the shipped card */
    rateCard?: RateCard;
    onError?: (error: unknown, context: string) => void;
  },
): Promise<FraudControls> {
  const controls = new FraudControls({
    store: deps.store,
    clock: deps.clock,
    limiter: deps.limiter ?? new MemoryLimiter(),
    settings,
    ...(deps.rateCard ? { rateCard: deps.rateCard } : {}),
    ...(deps.onError ? { onError: deps.onError } : {}),
  });
  await controls.start();
  return controls;
}
