/**
 * The delivery log of a webhook endpoint: every event sent (or being retried) with its attempts, and replay.
 */
import { z } from "zod";
import { applicationOf, authenticate } from "../../auth.js";
import { DeliveryAttemptView, DeliveryView, deliveryAttemptView, deliveryView } from "../../event-views.js";
import { type RouteRegistration, unwrap } from "../../route-kit.js";
import { commonErrors, ErrorView } from "../../views.js";

const Params = z.object({ id: z.string().min(1).max(64) });
const DeliveryParams = Params.extend({ delivery_id: z.string().min(1).max(80) });
const Query = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    before: z.coerce.number().int().min(0).optional().describe("`next_before` of the previous page"),
  })
  .strict();

const base = { tags: ["webhooks"], security: [{ bearer: [] }] };
const errors = { ...commonErrors, 403: ErrorView };

export const registerWebhookDeliveries: RouteRegistration = (app, services) => {
  const onRequest = authenticate(services, "application");
  const endpoints = services.webhookEndpoints;

  app.get(
    "/v1/webhook-endpoints/:id/deliveries",
    {
      onRequest,
      schema: {
        ...base,
        summary: "List an endpoint's deliveries, newest first",
        params: Params,
        querystring: Query,
        response: {
          200: z.object({ data: z.array(DeliveryView), next_before: z.number().int().nullable() }),
          ...errors,
        },
      },
    },
    async (request) => {
      const { limit, before } = request.query;
      const page = unwrap(await endpoints.deliveries(applicationOf(request), request.params.id, limit, before));
      return {
        data: page.map(deliveryView),
        next_before: page.length === limit ? (page.at(-1)?.eventSeq ?? null) : null,
      };
    },
  );

  app.get(
    "/v1/webhook-endpoints/:id/deliveries/:delivery_id",
    {
      onRequest,
      schema: {
        ...base,
        summary: "Read a delivery with every attempt (status, latency, error)",
        params: DeliveryParams,
        response: { 200: DeliveryView.extend({ attempt_log: z.array(DeliveryAttemptView) }), ...errors },
      },
    },
    async (request) => {
      const { id, delivery_id } = request.params;
      const entry = unwrap(await endpoints.delivery(applicationOf(request), id, delivery_id));
      return { ...deliveryView(entry.delivery), attempt_log: entry.attempts.map(deliveryAttemptView) };
    },
  );

  app.post(
    "/v1/webhook-endpoints/:id/deliveries/:delivery_id/replay",
    {
      onRequest,
      schema: {
        ...base,
        summary: "Send a delivery again",
        description: "Due at once, with a fresh retry schedule; the receiver sees the same webhook-id again.",
        params: DeliveryParams,
        response: { 202: DeliveryView, ...errors },
      },
    },
    async (request, reply) => {
      const { id, delivery_id } = request.params;
      const replayed = unwrap(await endpoints.replay(applicationOf(request), id, delivery_id));
      services.webhooks.kick();
      return reply.code(202).send(deliveryView(replayed));
    },
  );
};
