/**
 * GET /v1/stats: the operator's statistics of the application over a time range (default the last 24 hours), cut
 * into buckets for charts. The shape is documented field by field in the OpenAPI document.
 */
import { z } from "zod";
import { isOperator } from "../../../core/applications.js";
import { applicationOf, authenticate } from "../../auth.js";
import { HttpError } from "../../errors.js";
import type { RouteRegistration } from "../../route-kit.js";
import { StatsView, statsView } from "../../stats-views.js";
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
      return statsView(report, isOperator(applicationId) ? services.delivery.report() : null);
    },
  );
};
