/**
 * Managing an application's webhook endpoints and reading their delivery log: create, update, delete, rotate the
 * signing secret (the old one keeps signing beside the new one for an overlap), list and replay deliveries. Every
 * operation is scoped to the calling application: another application's endpoint looks exactly like none.
 */
import { err, ok, type Result } from "../core/errors.js";
import { newId } from "../core/ids.js";
import type { Clock } from "../core/ports.js";
import type { EventType } from "../core/types.js";
import { type AddressClass, urlAllowed } from "./address-guard.js";
import { newWebhookSecret } from "./signature.js";
import type { DeliveryAttempt, WebhookDelivery, WebhookEndpoint, WebhookStore } from "./webhook-store.js";

export interface EndpointInput {
  url: string;
  description?: string | null | undefined;
  /** null or absent: every type */
  event_types?: EventType[] | null | undefined;
  enabled?: boolean | undefined;
  /** `standard` (default) or `sinch`: Sinch's VerificationResultEvent, Sinch-signed */
  format?: "standard" | "sinch" | undefined;
}

/** What a Sinch-format endpoint receives by default: the events that end a verification (its result). */
export const SINCH_RESULT_EVENTS: EventType[] = [
  "verification.verified",
  "verification.failed",
  "verification.expired",
  "verification.canceled",
  "verification.blocked",
];

/** default overlap of a rotation: 24 h, the longest a delivery waits between two retries */
export const DEFAULT_ROTATION_OVERLAP_SECONDS = 24 * 3600;

export class WebhookEndpoints {
  constructor(
    private readonly store: WebhookStore,
    private readonly clock: Clock,
    private readonly allowed: ReadonlySet<AddressClass>,
  ) {}

  checkUrl(url: string): boolean {
    return urlAllowed(url, this.allowed);
  }

  async create(applicationId: string, input: EndpointInput): Promise<Result<WebhookEndpoint>> {
    if (!this.checkUrl(input.url)) return err("URL_NOT_ALLOWED");
    const now = this.clock.now();
    const format = input.format ?? "standard";
    const types = input.event_types && input.event_types.length > 0 ? [...new Set(input.event_types)] : null;
    if (format === "sinch" && types?.some((type) => !SINCH_RESULT_EVENTS.includes(type))) {
      return err(
        "INVALID_REQUEST",
        `a sinch endpoint takes only the events that end a verification: ${SINCH_RESULT_EVENTS.join(", ")}`,
      );
    }
    const endpoint: WebhookEndpoint = {
      id: newId("whe", now),
      applicationId,
      url: input.url,
      description: input.description ?? null,
      eventTypes: types ?? (format === "sinch" ? SINCH_RESULT_EVENTS : null),
      enabled: input.enabled ?? true,
      disabledReason: input.enabled === false ? "by_api" : null,
      secret: newWebhookSecret(),
      previousSecret: null,
      previousSecretExpiresAt: null,
      createdAt: now,
      updatedAt: now,
      format,
    };
    await this.store.insertEndpoint(endpoint);
    return ok(endpoint);
  }

  list(applicationId: string): Promise<WebhookEndpoint[]> {
    return this.store.listEndpoints(applicationId);
  }

  async get(applicationId: string, id: string): Promise<Result<WebhookEndpoint>> {
    const endpoint = await this.store.getEndpoint(id);
    if (!endpoint || endpoint.applicationId !== applicationId) return err("WEBHOOK_ENDPOINT_NOT_FOUND");
    return ok(endpoint);
  }

  async update(applicationId: string, id: string, patch: Partial<EndpointInput>): Promise<Result<WebhookEndpoint>> {
    const found = await this.get(applicationId, id);
    if (!found.ok) return found;
    if (patch.url !== undefined && !this.checkUrl(patch.url)) return err("URL_NOT_ALLOWED");
    const current = found.value;
    const next: WebhookEndpoint = { ...current, updatedAt: this.clock.now() };
    if (patch.url !== undefined) next.url = patch.url;
    if (patch.description !== undefined) next.description = patch.description;
    if (patch.event_types !== undefined) {
      const types = patch.event_types && patch.event_types.length > 0 ? [...new Set(patch.event_types)] : null;
      if (current.format === "sinch" && types?.some((type) => !SINCH_RESULT_EVENTS.includes(type))) {
        return err("INVALID_REQUEST", `a sinch endpoint takes only: ${SINCH_RESULT_EVENTS.join(", ")}`);
      }
      next.eventTypes = types ?? (current.format === "sinch" ? SINCH_RESULT_EVENTS : null);
    }
    if (patch.enabled !== undefined && patch.enabled !== current.enabled) {
      // Re-enabling resumes the deliveries still pending for it, in order.
      next.enabled = patch.enabled;
      next.disabledReason = patch.enabled ? null : "by_api";
    }
    await this.store.updateEndpoint(next);
    return ok(next);
  }

  async remove(applicationId: string, id: string): Promise<Result<true>> {
    const found = await this.get(applicationId, id);
    if (!found.ok) return found;
    await this.store.deleteEndpoint(id, this.clock.now());
    return ok(true);
  }

  /** A new secret; the current one keeps signing too for `overlapSeconds` (0 ends it at once). */
  async rotateSecret(applicationId: string, id: string, overlapSeconds: number): Promise<Result<WebhookEndpoint>> {
    const found = await this.get(applicationId, id);
    if (!found.ok) return found;
    const now = this.clock.now();
    const next: WebhookEndpoint = {
      ...found.value,
      secret: newWebhookSecret(),
      previousSecret: overlapSeconds > 0 ? found.value.secret : null,
      previousSecretExpiresAt: overlapSeconds > 0 ? now + overlapSeconds * 1000 : null,
      updatedAt: now,
    };
    await this.store.updateEndpoint(next);
    return ok(next);
  }

  async deliveries(
    applicationId: string,
    id: string,
    limit: number,
    before?: number,
  ): Promise<Result<WebhookDelivery[]>> {
    const found = await this.get(applicationId, id);
    if (!found.ok) return found;
    return ok(await this.store.listDeliveries(id, limit, before));
  }

  async delivery(
    applicationId: string,
    id: string,
    deliveryId: string,
  ): Promise<Result<{ delivery: WebhookDelivery; attempts: DeliveryAttempt[] }>> {
    const found = await this.get(applicationId, id);
    if (!found.ok) return found;
    const entry = await this.store.getDelivery(deliveryId);
    if (!entry || entry.delivery.endpointId !== id) return err("WEBHOOK_DELIVERY_NOT_FOUND");
    return ok(entry);
  }

  /** Sends a delivery again (whatever its state) with a fresh retry schedule. */
  async replay(applicationId: string, id: string, deliveryId: string): Promise<Result<WebhookDelivery>> {
    const found = await this.delivery(applicationId, id, deliveryId);
    if (!found.ok) return found;
    await this.store.replayDelivery(deliveryId, this.clock.now());
    const entry = await this.store.getDelivery(deliveryId);
    return entry ? ok(entry.delivery) : err("WEBHOOK_DELIVERY_NOT_FOUND");
  }
}
