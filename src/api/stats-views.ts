/**
 * The JSON of GET /v1/stats: the operator's report (src/core/operator-stats.ts) and the delivery measurement
 * (src/core/delivery-measure.ts) as the API spells them, with the zod schemas that document them field by field.
 */
import { z } from "zod";
import type { DeliveryReport } from "../core/delivery-measure.js";
import type { OperatorReport } from "../core/operator-stats.js";
import type { PoolOdds } from "../core/pool.js";

const iso = (ms: number) => new Date(ms).toISOString();

const rate = z.number().nullable().describe("0..1; null when there is nothing to divide by");
const Outcomes = {
  attempts: z.number().int(),
  delivered: z.number().int(),
  failed: z.number().int(),
  in_flight: z.number().int(),
  cost: z.number().describe("USD, list prices"),
  failure_reasons: z.record(z.string(), z.number().int()).describe("failed attempts by reason"),
  delivery_rate: rate.describe("delivered / (delivered + failed)"),
};

const DeliveryOutcome = {
  placed: z.number().int().describe("flash calls that reached a carrier, or messages sent"),
  delivered: z.number().int().describe("as the carrier or provider said (a dropped flash call reads delivered)"),
  verified: z.number().int(),
  conversion: rate.describe("verified / placed"),
};

const DeliveryView = z
  .object({
    window_seconds: z.number(),
    min_samples: z.number().int(),
    min_conversion: z.number(),
    exploration: z.number(),
    networks: z.array(
      z.object({
        network: z.string().describe("an operator's name from NETWORKS, else country:number range"),
        flashcall: z.object({
          ...DeliveryOutcome,
          upper_bound: rate.describe("Wilson 95% upper bound of the conversion"),
          mean_time_to_verify_ms: z.number().nullable(),
          reports: z.object({ received: z.number().int(), late: z.number().int(), not_received: z.number().int() }),
        }),
        channels: z.array(z.object({ channel: z.string(), ...DeliveryOutcome })),
        trunks: z.array(
          z.object({
            trunk: z.string(),
            ...DeliveryOutcome,
            failing: z.boolean().describe("below the threshold over enough calls: tried after the other trunks"),
          }),
        ),
        decisions: z.record(z.string(), z.number().int()).describe('workflow "auto" starts by reason'),
      }),
    ),
  })
  .describe(
    "delivery per destination network and trunk over the rolling window (AUTO_WINDOW_SECONDS), all applications: " +
      'what workflow "auto" and the trunk order go by. Shown to the operator\'s keys only (null for other ' +
      "applications): it counts every application's traffic",
  );

export const StatsView = z.object({
  application_id: z.string(),
  from: z.string(),
  to: z.string(),
  bucket_seconds: z.number(),
  verifications: z.object({
    total: z.number().int(),
    pending: z.number().int(),
    verified: z.number().int(),
    failed: z.number().int(),
    expired: z.number().int(),
    canceled: z.number().int(),
    conversion_rate: rate.describe("verified / verifications that have ended"),
  }),
  time_to_verify_ms: z.object({
    count: z.number().int(),
    p50: z.number().nullable(),
    p90: z.number().nullable(),
  }),
  cost: z.object({
    currency: z.literal("USD"),
    total: z.number(),
    per_verification: z.number().nullable(),
    sms_only: z.number().describe("what one SMS per verification would have cost"),
    saving: z.number().describe("sms_only - total"),
    saving_rate: rate.describe("saving / sms_only"),
  }),
  by_channel: z.array(z.object({ channel: z.string(), ...Outcomes })),
  by_country: z.array(
    z.object({
      country: z.string(),
      verifications: z.number().int(),
      verified: z.number().int(),
      conversion_rate: rate,
      ...Outcomes,
    }),
  ),
  by_trunk: z.array(z.object({ trunk: z.string(), ...Outcomes }).describe("flash calls by carrier trunk")),
  series: z.array(
    z.object({
      start: z.string(),
      verifications: z.number().int(),
      verified: z.number().int(),
      ended: z.number().int(),
      conversion_rate: rate,
      cost: z.number(),
      attempts: z.record(z.string(), z.number().int()).describe("attempts by channel"),
    }),
  ),
  fraud: z.object({
    risk_outcomes: z.record(z.string(), z.number().int()).describe("verifications by risk outcome at start"),
    denied_by_application: z.number().int().describe("verifications the decision callback denied"),
    blocks: z
      .array(z.object({ source: z.string(), type: z.string(), shadow: z.boolean(), count: z.number().int() }))
      .describe("block-list entries made in the range, by the admin or the pumping detector"),
  }),
  pools: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      countries: z.array(z.string()),
      code_length: z.number().int(),
      size: z.number(),
      live_leases: z.number().int().describe("caller IDs held by live verifications now"),
      utilisation: z.number().describe("live_leases / size"),
      calls: z.number().int().describe("flash calls from this pool in the range"),
      guess_probability: z.number().describe("checks allowed / fewest codes behind a shown prefix"),
      within_bound: z.boolean(),
    }),
  ),
  delivery: DeliveryView.nullable(),
  webhooks: z.array(
    z.object({
      endpoint_id: z.string(),
      url: z.string(),
      enabled: z.boolean(),
      disabled_reason: z.string().nullable(),
      delivered: z.number().int(),
      failed: z.number().int(),
      pending: z.number().int(),
      success_rate: rate,
      mean_latency_ms: z.number().nullable(),
      last_delivery_at: z.string().nullable(),
    }),
  ),
});

type Outcomes = OperatorReport["byChannel"][number];

const outcomesView = (o: Omit<Outcomes, "channel">) => ({
  attempts: o.attempts,
  delivered: o.delivered,
  failed: o.failed,
  in_flight: o.inFlight,
  cost: o.cost,
  failure_reasons: o.failureReasons,
  delivery_rate: o.deliveryRate,
});

/** A pool and its worst-case guess probability, as /v1/stats and /v1/fraud/policy show it. */
export function poolOddsView(p: PoolOdds) {
  return {
    id: p.id,
    name: p.name,
    countries: p.countries,
    code_length: p.codeLength,
    size: p.size,
    guess_probability: p.guessProbability,
    within_bound: p.withinBound,
  };
}

function deliveryView(d: DeliveryReport): z.infer<typeof DeliveryView> {
  return {
    window_seconds: d.windowMs / 1000,
    min_samples: d.minSamples,
    min_conversion: d.minConversion,
    exploration: d.exploration,
    networks: d.networks.map((n) => ({
      network: n.network,
      flashcall: {
        placed: n.flashcall.placed,
        delivered: n.flashcall.delivered,
        verified: n.flashcall.verified,
        conversion: n.flashcall.conversion,
        upper_bound: n.flashcall.upperBound,
        mean_time_to_verify_ms: n.flashcall.meanTimeToVerifyMs,
        reports: {
          received: n.flashcall.reports.received,
          late: n.flashcall.reports.late,
          not_received: n.flashcall.reports.notReceived,
        },
      },
      channels: n.channels,
      trunks: n.trunks,
      decisions: n.decisions,
    })),
  };
}

export function statsView(r: OperatorReport, delivery: DeliveryReport | null): z.infer<typeof StatsView> {
  return {
    application_id: r.applicationId,
    from: iso(r.from),
    to: iso(r.to),
    bucket_seconds: r.bucketMs / 1000,
    verifications: {
      total: r.verifications.total,
      pending: r.verifications.pending,
      verified: r.verifications.verified,
      failed: r.verifications.failed,
      expired: r.verifications.expired,
      canceled: r.verifications.canceled,
      conversion_rate: r.verifications.conversionRate,
    },
    time_to_verify_ms: r.timeToVerifyMs,
    cost: {
      currency: r.cost.currency,
      total: r.cost.total,
      per_verification: r.cost.perVerification,
      sms_only: r.cost.smsOnly,
      saving: r.cost.saving,
      saving_rate: r.cost.savingRate,
    },
    by_channel: r.byChannel.map((o) => ({ channel: o.channel, ...outcomesView(o) })),
    by_country: r.byCountry.map((c) => ({
      country: c.country,
      verifications: c.verifications,
      verified: c.verified,
      conversion_rate: c.conversionRate,
      ...outcomesView(c),
    })),
    by_trunk: r.byTrunk.map((o) => ({ trunk: o.trunk, ...outcomesView(o) })),
    series: r.series.map((p) => ({
      start: iso(p.start),
      verifications: p.verifications,
      verified: p.verified,
      ended: p.ended,
      conversion_rate: p.conversionRate,
      cost: p.cost,
      attempts: p.attempts,
    })),
    fraud: {
      risk_outcomes: r.fraud.riskOutcomes,
      denied_by_application: r.fraud.deniedByApplication,
      blocks: r.fraud.blocks,
    },
    pools: r.pools.map((p) => ({
      ...poolOddsView(p),
      live_leases: p.liveLeases,
      utilisation: p.utilisation,
      calls: p.calls,
    })),
    delivery: delivery && deliveryView(delivery),
    webhooks: r.webhooks.map((w) => ({
      endpoint_id: w.endpointId,
      url: w.url,
      enabled: w.enabled,
      disabled_reason: w.disabledReason,
      delivered: w.delivered,
      failed: w.failed,
      pending: w.pending,
      success_rate: w.successRate,
      mean_latency_ms: w.meanLatencyMs,
      last_delivery_at: w.lastDeliveryAt === null ? null : iso(w.lastDeliveryAt),
    })),
  };
}
