/**
 * The fraud controls' factory: settings from the configuration, the limiter the composition root chose, and the
 * guard the core calls.
 *
 * @example
 * const fraud = await createFraudControls(config, { store, clock });
 * new VerificationService({ ..., fraud });
 */
import type { Config } from "../config.js";
import type { Clock, Store } from "../core/ports.js";
import type { RateCard } from "../core/rate-card.js";
import { SANDBOX_EXEMPT } from "../sandbox/test-numbers.js";
import { FraudControls } from "./guard.js";
import type { Limiter } from "./limiter.js";
import { MemoryLimiter } from "./memory-limiter.js";
import { fraudSettingsFrom } from "./settings.js";

export { FraudControls } from "./guard.js";

export async function createFraudControls(
  config: Config,
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
