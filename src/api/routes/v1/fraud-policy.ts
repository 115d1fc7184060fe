/** GET /v1/fraud/policy: the application's fraud policy as data, with each pool's guess probability against the bound. */
import { z } from "zod";
import { type PolicyReport, policyReport } from "../../../fraud/policy-report.js";
import { applicationOf, authenticate } from "../../auth.js";
import type { RouteRegistration } from "../../route-kit.js";
import { commonErrors, ErrorView } from "../../views.js";

const rule = z.string().describe("points/duration like 5/10m, or off");

const PolicyView = z.object({
  application_id: z.string(),
  max_guess_probability: z.number().describe("a flash call above this guess probability is refused"),
  pools: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      countries: z.array(z.string()),
      code_length: z.number().int(),
      size: z.number().int(),
      guess_probability: z.number().describe("the pool's worst case: checks allowed / fewest codes behind a prefix"),
      within_bound: z.boolean(),
    }),
  ),
  start_limits: z.record(z.string(), rule),
  check_limits: z.record(z.string(), rule),
  check_failures_per_number: rule,
  channels: z.object({ flashcall: z.object({ countries: z.array(z.string()), number_types: z.array(z.string()) }) }),
  high_risk_prefixes: z.object({
    shipped: z.array(z.object({ prefix: z.string(), why: z.string(), source: z.string() })),
    configured: z.array(z.string()),
  }),
  pumping: z.object({
    mode: z.enum(["on", "shadow", "off"]),
    window_minutes: z.number(),
    min_sends_prefix: z.number().int(),
    min_sends_country: z.number().int(),
    min_conversion: z.number(),
    block_hours: z.number(),
    max_block_hours: z.number(),
  }),
  daily_spend_usd: z.number().nullable(),
  daily_spend_country_usd: z.number().nullable(),
  risk: z.object({
    challenge_score: z.number(),
    block_score: z.number(),
    block_action: z.enum(["block", "shadow_block"]),
  }),
}) satisfies z.ZodType<PolicyReport>;

export const registerFraudPolicy: RouteRegistration = (app, services) => {
  app.get(
    "/v1/fraud/policy",
    {
      onRequest: authenticate(services, "application"),
      schema: {
        summary: "Read the fraud policy",
        tags: ["fraud"],
        security: [{ bearer: [] }],
        response: { 200: PolicyView, ...commonErrors, 403: ErrorView },
      },
    },
    async (request) =>
      policyReport(
        services.fraud.settings,
        applicationOf(request),
        services.pools.all,
        services.config.FLASHCALL_MAX_CHECKS,
      ),
  );
};
