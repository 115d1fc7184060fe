/**
 * /v1/webhook-endpoints: an application's webhook endpoints. The signing secret is shown when an endpoint is
 * created and when it is rotated; `POST .../rotate-secret` keeps the old secret signing beside the new one for
 * `overlap_seconds` (default 24 h), so receivers can switch without missing a delivery.
 */
import { z } from "zod";
import type { EventType } from "../../../core/types.js";
import { DEFAULT_ROTATION_OVERLAP_SECONDS } from "../../../events/webhook-endpoints.js";
import { applicationOf, authenticate } from "../../auth.js";
import { EndpointView, EndpointWithSecretView, EventTypeSchema, endpointView } from "../../event-views.js";
import { type RouteRegistration, unwrap } from "../../route-kit.js";
import { commonErrors, ErrorView } from "../../views.js";

const Params = z.object({ id: z.string().min(1).max(64) });
const fields = {
  url: z.string().min(1).max(2048).describe("http(s) URL that receives the POSTs"),
  description: z.string().max(256).nullable().optional(),
  event_types: z.array(EventTypeSchema).max(32).nullable().optional().describe("absent or null: every type"),
  enabled: z.boolean().optional(),
};
const CreateBody = z
  .object({
    ...fields,
    format: z
      .enum(["standard", "sinch"])
      .default("standard")
      .describe(
        "sinch: Sinch's VerificationResultEvent for the events that end a verification, signed with the application's newest Sinch credential pair",
      ),
  })
  .strict();
const UpdateBody = z.object({ ...fields, url: fields.url.optional() }).strict();
const RotateBody = z
  .object({
    overlap_seconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 3600)
      .default(DEFAULT_ROTATION_OVERLAP_SECONDS)
      .describe("how long the previous secret keeps signing too; default 86400"),
  })
  .strict();

const base = { tags: ["webhooks"], security: [{ bearer: [] }] };
const errors = { ...commonErrors, 403: ErrorView };
const types = (t: string[] | null | undefined) => t as EventType[] | null | undefined;

export const registerWebhookEndpoints: RouteRegistration = (app, services) => {
  const onRequest = authenticate(services, "application");
  const endpoints = services.webhookEndpoints;

  app.post(
    "/v1/webhook-endpoints",
    {
      onRequest,
      schema: {
        ...base,
        summary: "Create a webhook endpoint",
        body: CreateBody,
        response: { 201: EndpointWithSecretView, ...errors, 422: ErrorView },
      },
    },
    async (request, reply) => {
      const body = { ...request.body, event_types: types(request.body.event_types) };
      const created = unwrap(await endpoints.create(applicationOf(request), body));
      return reply.code(201).send({ ...endpointView(created), secret: created.secret });
    },
  );

  app.get(
    "/v1/webhook-endpoints",
    {
      onRequest,
      schema: {
        ...base,
        summary: "List webhook endpoints",
        response: { 200: z.object({ data: z.array(EndpointView) }), ...errors },
      },
    },
    async (request) => ({ data: (await endpoints.list(applicationOf(request))).map(endpointView) }),
  );

  app.get(
    "/v1/webhook-endpoints/:id",
    {
      onRequest,
      schema: {
        ...base,
        summary: "Read a webhook endpoint",
        params: Params,
        response: { 200: EndpointView, ...errors },
      },
    },
    async (request) => endpointView(unwrap(await endpoints.get(applicationOf(request), request.params.id))),
  );

  app.patch(
    "/v1/webhook-endpoints/:id",
    {
      onRequest,
      schema: {
        ...base,
        summary: "Change a webhook endpoint",
        description: "Re-enabling an endpoint (also one disabled after a 410) resumes its pending deliveries.",
        params: Params,
        body: UpdateBody,
        response: { 200: EndpointView, ...errors, 422: ErrorView },
      },
    },
    async (request) => {
      const patch = { ...request.body, event_types: types(request.body.event_types) };
      return endpointView(unwrap(await endpoints.update(applicationOf(request), request.params.id, patch)));
    },
  );

  app.delete(
    "/v1/webhook-endpoints/:id",
    {
      onRequest,
      schema: { ...base, summary: "Delete a webhook endpoint", params: Params, response: { 204: z.null(), ...errors } },
    },
    async (request, reply) => {
      unwrap(await endpoints.remove(applicationOf(request), request.params.id));
      return reply.code(204).send(null);
    },
  );

  app.post(
    "/v1/webhook-endpoints/:id/rotate-secret",
    {
      onRequest,
      schema: {
        ...base,
        summary: "Rotate an endpoint's signing secret",
        params: Params,
        body: RotateBody,
        response: { 200: EndpointWithSecretView, ...errors },
      },
    },
    async (request) => {
      const rotated = unwrap(
        await endpoints.rotateSecret(applicationOf(request), request.params.id, request.body.overlap_seconds),
      );
      return { ...endpointView(rotated), secret: rotated.secret };
    },
  );
};
