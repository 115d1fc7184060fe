/** The public JSON of events, webhook endpoints and their deliveries, with the zod schemas that document them. */
import { z } from "zod";
import { EVENT_TYPES } from "../events/catalogue.js";
import type { DeliveryAttempt, WebhookDelivery, WebhookEndpoint } from "../events/webhook-store.js";

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export const EventTypeSchema = z.enum(EVENT_TYPES as [string, ...string[]]);

export const EventView = z.object({
  id: z.string().describe("evt_...: sorts in the order of its verification's events"),
  type: EventTypeSchema,
  timestamp: z.string(),
  data: z
    .object({ verification_id: z.string(), attempt_id: z.string().nullable() })
    .catchall(z.unknown())
    .describe("verification_id, attempt_id and the fields of the type (see the README's event catalogue)"),
});

export const EndpointView = z.object({
  id: z.string(),
  url: z.string(),
  description: z.string().nullable(),
  event_types: z.array(EventTypeSchema).nullable().describe("null: every type"),
  enabled: z.boolean(),
  disabled_reason: z.string().nullable().describe("gone (it answered 410) or by_api"),
  previous_secret_expires_at: z.string().nullable().describe("until then the previous secret signs too"),
  format: z.enum(["standard", "sinch"]).describe("standard: Standard Webhooks; sinch: Sinch's result events"),
  created_at: z.string(),
  updated_at: z.string(),
});

/** The endpoint with its signing secret: answered on create and on rotation only. */
export const EndpointWithSecretView = EndpointView.extend({
  secret: z.string().describe("whsec_...: verify every webhook's signature with it"),
});

export function endpointView(e: WebhookEndpoint): z.infer<typeof EndpointView> {
  return {
    id: e.id,
    url: e.url,
    description: e.description,
    event_types: e.eventTypes,
    enabled: e.enabled,
    disabled_reason: e.disabledReason,
    previous_secret_expires_at: iso(e.previousSecretExpiresAt),
    format: e.format,
    created_at: iso(e.createdAt) as string,
    updated_at: iso(e.updatedAt) as string,
  };
}

export const DeliveryAttemptView = z.object({
  attempted_at: z.string(),
  status_code: z.number().int().nullable(),
  latency_ms: z.number().int(),
  error: z.string().nullable(),
});

export const DeliveryView = z.object({
  id: z.string(),
  event_id: z.string(),
  verification_id: z.string(),
  status: z.enum(["pending", "delivered", "failed"]),
  attempts: z.number().int(),
  next_attempt_at: z.string().nullable(),
  last_status_code: z.number().int().nullable(),
  last_error: z.string().nullable(),
  last_latency_ms: z.number().int().nullable(),
  created_at: z.string(),
  ended_at: z.string().nullable(),
});

export function deliveryView(d: WebhookDelivery): z.infer<typeof DeliveryView> {
  return {
    id: d.id,
    event_id: d.eventId,
    verification_id: d.verificationId,
    status: d.status,
    attempts: d.attempts,
    next_attempt_at: d.status === "pending" ? iso(d.nextAttemptAt) : null,
    last_status_code: d.lastStatusCode,
    last_error: d.lastError,
    last_latency_ms: d.lastLatencyMs,
    created_at: iso(d.createdAt) as string,
    ended_at: iso(d.endedAt),
  };
}

export function deliveryAttemptView(a: DeliveryAttempt): z.infer<typeof DeliveryAttemptView> {
  return {
    attempted_at: iso(a.attemptedAt) as string,
    status_code: a.statusCode,
    latency_ms: a.latencyMs,
    error: a.error,
  };
}
