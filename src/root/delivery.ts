/**
 * The part of the composition root that builds the delivery measurement and workflow auto's choice from the
 * configuration (AUTO_*, NETWORKS, NETWORK_PREFIX_DIGITS): see src/core/delivery-measure.ts and channel-choice.ts.
 */
import type { Config } from "../config.js";
import { AutoChoice } from "../core/channel-choice.js";
import { type DeliveryCountsStore, DeliveryMeasure } from "../core/delivery-measure.js";
import { NetworkTable } from "../core/networks.js";
import type { Clock } from "../core/ports.js";
import type { RateCard } from "../core/rate-card.js";
import type { ChannelName } from "../core/types.js";

/** The measurement, with the window as the database holds it read in before the first call is placed. */
export async function startDeliveryMeasure(
  config: Config,
  deps: { store: DeliveryCountsStore; clock: Clock; onError: (error: unknown) => void },
): Promise<DeliveryMeasure> {
  const measure = new DeliveryMeasure({
    ...deps,
    networks: new NetworkTable(config.NETWORKS, config.NETWORK_PREFIX_DIGITS),
    settings: {
      windowMs: config.AUTO_WINDOW_SECONDS * 1000,
      minSamples: config.AUTO_MIN_SAMPLES,
      minConversion: config.AUTO_MIN_CONVERSION,
      exploration: config.AUTO_EXPLORATION,
      flushMs: config.AUTO_FLUSH_MS,
    },
  });
  await measure.start();
  return measure;
}

/** Workflow auto over the channels this server has (`channels`: the ones the verification service sends on). */
export function autoChoiceFor(
  config: Config,
  measure: DeliveryMeasure,
  card: RateCard,
  channels: Partial<Record<ChannelName, unknown>>,
): AutoChoice {
  return new AutoChoice({
    measure,
    card,
    fallback: config.AUTO_FALLBACK,
    configured: (channel) => channels[channel] !== undefined,
  });
}
