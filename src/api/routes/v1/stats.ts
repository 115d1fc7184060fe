/**
 * GET /v1/stats: the operator's statistics of the application over a time range (default the last 24 hours), cut
 * into buckets for charts. The shape is documented field by field in the OpenAPI document.
 */
import { z } from "zod";
import { isOperator } from "../../../core/applications.js";
import { applicationOf, authenticate } from "../../auth.js";
import { HttpError } from "../../errors.js";
import type { RouteRegistration } from "../../route-kit.js";
import { commonErrors, ErrorView } from "../../views.js";

const DAY_MS = 24 * 3600_000;
const MAX_RANGE_MS = 92 * DAY_MS;

const Query = z
  .object({
    from: z.iso.datetime({ offset: true }).optional().describe("start of the range; default `to` minus 24 hours"),
    to: z.iso.datetime({ offset: true }).optional().describe("end of the range (exclusive); default now"),
    buckets: z.coerce.number().int().min(1).max(200).default(24).describe("points of each time series"),
  })
  .strict();

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

const StatsView = z.object({
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

export const registerStats: RouteRegistration = (app, services) => {
  app.get(
    "/v1/stats",
    {
      onRequest: authenticate(services, "application"),
      schema: {
        summary: "Statistics over a time range",
        description:
          "Conversion, time to verify, outcomes and failure reasons by channel, country and trunk, cost against " +
          "SMS-only (rate-card list prices), fraud outcomes, pool utilisation and webhook health.",
        tags: ["stats"],
        security: [{ bearer: [] }],
        querystring: Query,
        response: { 200: StatsView, ...commonErrors, 403: ErrorView },
      },
    },
    async (request) => {
      const to = request.query.to ? Date.parse(request.query.to) : services.clock.now();
      const from = request.query.from ? Date.parse(request.query.from) : to - DAY_MS;
      if (!(from < to) || to - from > MAX_RANGE_MS) {
        throw new HttpError({ code: "INVALID_REQUEST", message: "`from` must be before `to`, at most 92 days apart." });
      }
      const applicationId = applicationOf(request);
      const report = await services.stats.report(applicationId, from, to, request.query.buckets);
      // Every application's calls make up the measurement: one tenant must not read another's volumes from it.
      return { ...report, delivery: isOperator(applicationId) ? services.delivery.report() : null };
    },
  );
};
