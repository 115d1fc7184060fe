/**
 * Workflow auto: the channels of a start chosen by what the delivery measurement says of the destination's network.
 *
 * - A network whose flash calls convert below `minConversion` (its Wilson upper bound, over at least `minSamples`
 *   calls in the window: a bad minute on few calls is not enough) has its flash calls skipped: the start goes to the
 *   reverse flash call where the client can dial, else to the fallback channels (SMS by default), except for an
 *   `exploration` share of starts, which keep the flash call so that the network can show it has recovered. The
 *   reverse flash call asks the person to act, so it is offered only there, not instead of flash calls that work.
 * - Otherwise the workflows are weighed by their expected cost per *verified* user: each step's price (attempt fee
 *   plus delivered price, rate card) paid by those the steps before it did not verify, over the share the whole
 *   workflow verifies, with each channel's measured conversion (or a prior until it has `minSamples`). A cheap
 *   channel that rarely converts loses to a dearer one that does.
 * - A number a flash call cannot reach (VoIP, a landline) is given the cheapest of the other workflows, the reverse
 *   flash call among them, for reason `number_type`.
 * Every decision carries its reason (ChannelChoice), kept on the verification and in `verification.started`.
 */
import type { DeliveryMeasure } from "./delivery-measure.js";
import { wilsonUpper } from "./delivery-measure.js";
import { priceOf, type RateCard } from "./rate-card.js";
import { CHANNELS, type ChannelChoice, type ChannelName } from "./types.js";

/** The reverse flash call, where this server has it: the user calls us and the caller ID proves the number. */
const REVERSE = "reverse_flashcall";

/** Conversion assumed for a channel until the network has `minSamples` of it measured. */
const PRIOR_CONVERSION: Readonly<Record<string, number>> = {
  flashcall: 0.8,
  [REVERSE]: 0.8,
  sms: 0.9,
  whatsapp: 0.85,
  viber: 0.8,
  voice: 0.8,
  email: 0.7,
};

export interface AutoChoiceDeps {
  measure: DeliveryMeasure;
  card: RateCard;
  /** the channels after the first step of an automatic workflow, in order, as far as they are configured */
  fallback: readonly ChannelName[];
  /** whether this server can send on a channel other than the flash call */
  configured: (channel: ChannelName) => boolean;
}

export interface AutoChoiceRequest {
  phone: string;
  country: string;
  /** the client says it can place a call (a phone app, not a desktop browser) */
  canDial: boolean;
  /** whether a flash call can reach the number at all (not to a VoIP number or a landline); default true */
  flashcallReaches?: boolean;
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

export class AutoChoice {
  constructor(private readonly deps: AutoChoiceDeps) {}

  /** The channels for one start, and why. */
  choose(request: AutoChoiceRequest): ChannelChoice {
    const { measure } = this.deps;
    const { minSamples, minConversion, exploration } = measure.settings;
    const network = measure.networkOf(request.phone, request.country);
    const flash = measure.channelTotals(network, "flashcall");
    const samples = flash.placed;
    const measured = samples > 0 ? round(Math.min(1, flash.verified / samples), 4) : null;
    const upper = samples > 0 ? round(wilsonUpper(Math.min(flash.verified, samples), samples), 4) : null;
    const fallback = this.deps.fallback.filter((c) => this.deps.configured(c));
    const withFlash: ChannelName[] = ["flashcall", ...fallback];
    const alternatives: ChannelName[][] = [];
    if (request.canDial && this.has(REVERSE)) alternatives.push([REVERSE as ChannelName, ...fallback]);
    if (fallback.length > 0) alternatives.push(fallback);

    const costs: Record<string, number | null> = {};
    const costOf = (workflow: ChannelName[]) => {
      const cost = this.costPerVerified(network, request.country, workflow);
      costs[workflow.join(">")] = cost === null ? null : round(cost, 6);
      return cost ?? Number.POSITIVE_INFINITY;
    };
    // A flash call that cannot reach the number is not weighed at all: the start would skip it, and the choice
    // must say what was sent.
    const unreachable = request.flashcallReaches === false;
    const below = samples >= minSamples && upper !== null && upper < minConversion;
    // The reverse flash call asks the person to place a call: it stands in for flash calls that fail (or cannot
    // reach), never for ones that work, however little it costs (the caller pays nothing, nor do we).
    const weighed = below || unreachable ? alternatives : alternatives.filter((w) => w[0] !== REVERSE);
    const flashCost = unreachable ? Number.POSITIVE_INFINITY : costOf(withFlash);
    const cheapest = weighed
      .map((workflow) => ({ workflow, cost: costOf(workflow) }))
      .sort((a, b) => a.cost - b.cost)[0];

    let workflow = withFlash;
    let reason: ChannelChoice["reason"] = "measured";
    if (unreachable) {
      // With nothing else configured the start is refused for the number's type; the choice still says why.
      workflow = cheapest?.workflow ?? withFlash;
      reason = "number_type";
    } else if (below && cheapest) {
      const explore = measure.random() < exploration;
      workflow = explore ? withFlash : cheapest.workflow;
      reason = explore ? "exploration" : "below_threshold";
    } else if (cheapest && cheapest.cost < flashCost) {
      workflow = cheapest.workflow;
      reason = "cheaper";
    }
    measure.decided(network, reason);
    return {
      network,
      flashcallConversion: measured,
      samples,
      conversionUpperBound: upper,
      workflow,
      reason,
      expectedCostPerVerified: costs,
    };
  }

  private has(channel: string): boolean {
    return (CHANNELS as readonly string[]).includes(channel) && this.deps.configured(channel as ChannelName);
  }

  /** Expected USD per verified user of a workflow to this network; null when it cannot be expected to verify. */
  private costPerVerified(network: string, country: string, workflow: readonly ChannelName[]): number | null {
    let unverified = 1;
    let cost = 0;
    for (const channel of workflow) {
      const price = priceOf(channel, country, this.deps.card);
      cost += unverified * (price.attempt + price.delivered);
      unverified *= 1 - this.conversion(network, channel);
    }
    return unverified >= 1 ? null : cost / (1 - unverified);
  }

  private conversion(network: string, channel: ChannelName): number {
    const t = this.deps.measure.channelTotals(network, channel);
    if (t.placed < this.deps.measure.settings.minSamples) return PRIOR_CONVERSION[channel] ?? 0.5;
    return Math.min(1, t.verified / t.placed);
  }
}

/**
 * A choice as `verification.started` carries it and the verification's row keeps it: the event catalogue's spelling,
 * since an event's data is written once, to the outbox, and delivered as written (webhooks, streams, the event log).
 */
export interface ChannelChoiceDocument {
  network: string;
  flashcall_conversion: number | null;
  samples: number;
  conversion_upper_bound: number | null;
  workflow: ChannelName[];
  reason: ChannelChoice["reason"];
  expected_cost_per_verified: Record<string, number | null>;
}

export function channelChoiceDocument(c: ChannelChoice): ChannelChoiceDocument {
  return {
    network: c.network,
    flashcall_conversion: c.flashcallConversion,
    samples: c.samples,
    conversion_upper_bound: c.conversionUpperBound,
    workflow: c.workflow,
    reason: c.reason,
    expected_cost_per_verified: c.expectedCostPerVerified,
  };
}

export function channelChoiceFromDocument(d: ChannelChoiceDocument): ChannelChoice {
  return {
    network: d.network,
    flashcallConversion: d.flashcall_conversion,
    samples: d.samples,
    conversionUpperBound: d.conversion_upper_bound,
    workflow: d.workflow,
    reason: d.reason,
    expectedCostPerVerified: d.expected_cost_per_verified,
  };
}
