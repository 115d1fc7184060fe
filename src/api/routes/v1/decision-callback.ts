/**
 * /v1/decision-callback: the application's optional pre-send decision callback. Before anything is sent for a
 * new verification, its URL receives the request (signed the Standard Webhooks way with the callback's secret)
 * and answers `{"decision": "allow" | "deny"}` within `timeout_ms`; otherwise `default_decision` applies.
 */
import { z } from "zod";
import type { DecisionCallback } from "../../../events/webhook-store.js";
import { applicationOf, authenticate } from "../../auth.js";
import { type RouteRegistration, unwrap } from "../../route-kit.js";
import { commonErrors, ErrorView } from "../../views.js";

const Body = z
  .object({
    url: z.string().min(1).max(2048),
    timeout_ms: z.number().int().min(100).max(10_000).default(1500).describe("the answer's deadline; default 1500"),
    default_decision: z.enum(["allow", "deny"]).default("allow").describe("on timeout or a bad answer"),
    rotate_secret: z.boolean().default(false).describe("issue a new signing secret"),
    format: z
      .enum(["flashverify", "sinch"])
      .default("flashverify")
      .describe(
        "sinch: Sinch's VerificationRequestEvent, answered {action, method?}, signed with the application's newest Sinch credential pair",
      ),
  })
  .strict();

const CallbackView = z.object({
  url: z.string(),
  timeout_ms: z.number().int(),
  default_decision: z.enum(["allow", "deny"]),
  format: z.enum(["flashverify", "sinch"]),
  created_at: z.string(),
  updated_at: z.string(),
});
const CallbackWithSecretView = CallbackView.extend({ secret: z.string().describe("whsec_...") });

const view = (c: DecisionCallback) => ({
  url: c.url,
  timeout_ms: c.timeoutMs,
  default_decision: c.defaultDecision,
  format: c.format,
  created_at: new Date(c.createdAt).toISOString(),
  updated_at: new Date(c.updatedAt).toISOString(),
});

const base = { tags: ["decision callback"], security: [{ bearer: [] }] };
const errors = { ...commonErrors, 403: ErrorView };

export const registerDecisionCallback: RouteRegistration = (app, services) => {
  const onRequest = authenticate(services, "application");

  app.put(
    "/v1/decision-callback",
    {
      onRequest,
      schema: {
        ...base,
        summary: "Set the pre-send decision callback",
        body: Body,
        response: { 200: CallbackWithSecretView, ...errors, 422: ErrorView },
      },
    },
    async (request) => {
      const { url, timeout_ms, default_decision, rotate_secret, format } = request.body;
      const callback = unwrap(
        await services.decisions.configure(applicationOf(request), {
          url,
          timeoutMs: timeout_ms,
          defaultDecision: default_decision,
          rotateSecret: rotate_secret,
          format,
        }),
      );
      return { ...view(callback), secret: callback.secret };
    },
  );

  app.get(
    "/v1/decision-callback",
    {
      onRequest,
      schema: { ...base, summary: "Read the decision callback", response: { 200: CallbackWithSecretView, ...errors } },
    },
    async (request) => {
      const callback = unwrap(await services.decisions.settings(applicationOf(request)));
      return { ...view(callback), secret: callback.secret };
    },
  );

  app.delete(
    "/v1/decision-callback",
    { onRequest, schema: { ...base, summary: "Remove the decision callback", response: { 204: z.null(), ...errors } } },
    async (request, reply) => {
      unwrap(await services.decisions.remove(applicationOf(request)));
      return reply.code(204).send(null);
    },
  );
};
