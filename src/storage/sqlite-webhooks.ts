/**
 * The SQLite store's webhooks port. The outbox's hot path (claiming deliveries, renewing claims, writing outcomes)
 * runs through the store's writer, inside its group commit; endpoint and decision-callback administration is the
 * shared Kysely queries'. Every endpoint change makes the writer reload which endpoints listen.
 */
import type {
  ClaimedDelivery,
  DecisionCallback,
  DeliveryAttempt,
  DeliveryResult,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookStore,
} from "../events/webhook-store.js";
import { deliveryAttemptRow, toDelivery, toEndpoint, toStoredEvent } from "./rows.js";
import type { ResultOf, WriteOp } from "./sqlite-writes.js";

export interface SqliteWebhooksDeps {
  /** the store's writer (its group commit) */
  write: <O extends WriteOp>(op: O) => Promise<ResultOf<O>>;
  /** the Kysely queries, for what is not on the hot path */
  shared: WebhookStore;
}

export class SqliteWebhooks implements WebhookStore {
  constructor(private readonly deps: SqliteWebhooksDeps) {}

  /** The writer inserts the deliveries of each event: it reloads which endpoints listen, after the change. */
  private async endpointsChanged(): Promise<void> {
    await this.deps.write({ k: "listeners" });
  }

  async insertEndpoint(endpoint: WebhookEndpoint): Promise<void> {
    await this.deps.shared.insertEndpoint(endpoint);
    await this.endpointsChanged();
  }

  getEndpoint(id: string): Promise<WebhookEndpoint | undefined> {
    return this.deps.shared.getEndpoint(id);
  }

  listEndpoints(applicationId: string): Promise<WebhookEndpoint[]> {
    return this.deps.shared.listEndpoints(applicationId);
  }

  async updateEndpoint(endpoint: WebhookEndpoint): Promise<void> {
    await this.deps.shared.updateEndpoint(endpoint);
    await this.endpointsChanged();
  }

  async deleteEndpoint(id: string, now: number): Promise<void> {
    await this.deps.shared.deleteEndpoint(id, now);
    await this.endpointsChanged();
  }

  /** A claim is a write (it sets `claimed_until`), so the writer makes it and answers the rows it claimed. */
  async claimDeliveries(now: number, claimUntil: number, limit: number): Promise<ClaimedDelivery[]> {
    const rows = await this.deps.write({ k: "claimDeliveries", now, claimUntil, limit });
    const endpoints = new Map<string, WebhookEndpoint>();
    const claimed = rows.map(({ delivery, event, endpoint }) => {
      let mapped = endpoints.get(endpoint.id);
      if (!mapped) {
        mapped = toEndpoint(endpoint);
        endpoints.set(endpoint.id, mapped);
      }
      return { delivery: toDelivery(delivery), event: toStoredEvent(event), endpoint: mapped };
    });
    // `returning` gives no order: restore the event order the worker sends in.
    return claimed.sort((a, b) => a.delivery.eventSeq - b.delivery.eventSeq);
  }

  renewClaims(ids: readonly string[], claimedUntil: number, until: number): Promise<number> {
    return this.deps.write({ k: "renewClaims", ids: [...ids], claimedUntil, until });
  }

  async completeDeliveries(results: DeliveryResult[], released: string[] = []): Promise<void> {
    await this.deps.write({
      k: "completeDeliveries",
      released,
      results: results.map((r) => ({
        attempt: deliveryAttemptRow(r.attempt),
        id: r.deliveryId,
        status: r.status,
        next_attempt_at: r.nextAttemptAt,
        disable: r.disableEndpoint ?? null,
      })),
    });
  }

  listDeliveries(endpointId: string, limit: number, before?: number): Promise<WebhookDelivery[]> {
    return this.deps.shared.listDeliveries(endpointId, limit, before);
  }

  getDelivery(id: string): Promise<{ delivery: WebhookDelivery; attempts: DeliveryAttempt[] } | undefined> {
    return this.deps.shared.getDelivery(id);
  }

  replayDelivery(id: string, now: number): Promise<boolean> {
    return this.deps.shared.replayDelivery(id, now);
  }

  getDecisionCallback(applicationId: string): Promise<DecisionCallback | undefined> {
    return this.deps.shared.getDecisionCallback(applicationId);
  }

  putDecisionCallback(callback: DecisionCallback): Promise<void> {
    return this.deps.shared.putDecisionCallback(callback);
  }

  deleteDecisionCallback(applicationId: string): Promise<boolean> {
    return this.deps.shared.deleteDecisionCallback(applicationId);
  }
}
