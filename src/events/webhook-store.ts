/**
 * What the webhook worker, the delivery log and the decision callback need from storage. Both stores implement it
 * beside the core's `Store`; delivery rows themselves are written by the store inside each event's transaction.
 */
import type { StoredEvent } from "../core/ports.js";
import type { EventType } from "../core/types.js";

export interface WebhookEndpoint {
  id: string;
  applicationId: string;
  url: string;
  description: string | null;
  /** the event types sent to this endpoint; null = every type */
  eventTypes: EventType[] | null;
  enabled: boolean;
  /** why it was disabled: `gone` (it answered 410) or `by_api` */
  disabledReason: string | null;
  /** `whsec_...` */
  secret: string;
  /** the secret before the last rotation, still signed with until `previousSecretExpiresAt` */
  previousSecret: string | null;
  previousSecretExpiresAt: number | null;
  createdAt: number;
  updatedAt: number;
  /**
   * `standard`: every event, Standard Webhooks; `sinch`: Sinch's VerificationResultEvent for the events that end a
   * verification, signed with the application's Sinch credential pair the way Sinch signs callbacks
   */
  format: "standard" | "sinch";
}

export type DeliveryStatus = "pending" | "delivered" | "failed";

export interface WebhookDelivery {
  id: string;
  endpointId: string;
  eventSeq: number;
  eventId: string;
  verificationId: string;
  status: DeliveryStatus;
  /** sending attempts made so far */
  attempts: number;
  nextAttemptAt: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastLatencyMs: number | null;
  createdAt: number;
  endedAt: number | null;
}

export interface DeliveryAttempt {
  id: string;
  deliveryId: string;
  endpointId: string;
  attemptedAt: number;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
}

/** A claimed delivery with what is needed to send it. */
export interface ClaimedDelivery {
  delivery: WebhookDelivery;
  event: StoredEvent;
  endpoint: WebhookEndpoint;
}

/** The outcome of one sending attempt, written back in one transaction with the others of its batch. */
export interface DeliveryResult {
  deliveryId: string;
  attempt: DeliveryAttempt;
  status: DeliveryStatus;
  /** when status stays pending */
  nextAttemptAt: number;
  /** set when the endpoint must stop receiving (it answered 410) */
  disableEndpoint?: string | undefined;
}

export interface DecisionCallback {
  applicationId: string;
  url: string;
  /** `whsec_...`, signs the decision request the Standard Webhooks way */
  secret: string;
  timeoutMs: number;
  /** what happens when the application does not answer in time or answers badly */
  defaultDecision: "allow" | "deny";
  createdAt: number;
  updatedAt: number;
  /** `flashverify`: our request and answer; `sinch`: Sinch's VerificationRequestEvent and its answer, Sinch-signed */
  format: "flashverify" | "sinch";
}

export interface WebhookStore {
  insertEndpoint(endpoint: WebhookEndpoint): Promise<void>;
  getEndpoint(id: string): Promise<WebhookEndpoint | undefined>;
  listEndpoints(applicationId: string): Promise<WebhookEndpoint[]>;
  updateEndpoint(endpoint: WebhookEndpoint): Promise<void>;
  /** Deletes the endpoint; its deliveries still pending end as failed. */
  deleteEndpoint(id: string, now: number): Promise<void>;

  /**
   * Claims the due deliveries of enabled endpoints that head their chain (the oldest pending delivery of one
   * verification to one endpoint), up to `limit` chains, each with the rest of its chain, in event order: per
   * verification and endpoint, events leave in order. A claim lasts until `claimUntil`; its value is the claim's
   * token for `renewClaims`.
   */
  claimDeliveries(now: number, claimUntil: number, limit: number): Promise<ClaimedDelivery[]>;
  /**
   * Extends to `until` the claim of those of `ids` still claimed until `claimedUntil` (by this worker: a claim that
   * lapsed and was taken by another has another token); resolves with how many it extended.
   */
  renewClaims(ids: readonly string[], claimedUntil: number, until: number): Promise<number>;
  /**
   * Writes attempt outcomes, and releases the claim of `released` deliveries that were claimed but not sent. A
   * delivery that goes back to waiting moves the rest of its chain back with it, so they wait out of the due range.
   */
  completeDeliveries(results: DeliveryResult[], released?: string[]): Promise<void>;

  /** An endpoint's deliveries, newest first, created before `before` when given. */
  listDeliveries(endpointId: string, limit: number, before?: number): Promise<WebhookDelivery[]>;
  getDelivery(id: string): Promise<{ delivery: WebhookDelivery; attempts: DeliveryAttempt[] } | undefined>;
  /** Makes a delivery due again at `now` with a fresh retry schedule; false when there is no such delivery. */
  replayDelivery(id: string, now: number): Promise<boolean>;

  getDecisionCallback(applicationId: string): Promise<DecisionCallback | undefined>;
  putDecisionCallback(callback: DecisionCallback): Promise<void>;
  deleteDecisionCallback(applicationId: string): Promise<boolean>;
}
