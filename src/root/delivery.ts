/**
 * The part of the composition root that builds the delivery measurement and workflow auto's choice from the
 * configuration (AUTO_*, NETWORKS, NETWORK_PREFIX_DIGITS): see src/core/delivery-measure.ts and channel-choice.ts.
 */
import type { DeliveryConfig } from "../config-slices.js";
import { AutoChoice } from "../core/channel-choice.js";
import { type DeliveryCountsStore, DeliveryMeasure } from "../core/delivery-measure.js";
import { NetworkTable } from "../core/networks.js";
import type { Clock } from "../core/ports.js";
import type { RateCard } from "../core/rate-card.js";
import type { ChannelName } from "../core/types.js";

/** The measurement, with the window as the database holds it read in before the first call is placed. */
export async function startDeliveryMeasure(
  config: DeliveryConfig,
  deps: { store: DeliveryCountsStore; clock: Clock; onError: (error: unknown) => void },
): Promise<DeliveryMeasure> {
  const measure = new DeliveryMeasure({
    ...deps,
    networks: new NetworkTable(config.networks, config.prefixDigits),
    settings: config.settings,
  });
  await measure.start();
  return measure;
}

/** Workflow auto over the channels this server has (`channels`: the ones the verification service sends on). */
export function autoChoiceFor(
  config: DeliveryConfig,
  measure: DeliveryMeasure,
  card: RateCard,
  channels: Partial<Record<ChannelName, unknown>>,
): AutoChoice {
  return new AutoChoice({
    measure,
    card,
    fallback: config.fallback,
    configured: (channel) => channels[channel] !== undefined,
  });
}
