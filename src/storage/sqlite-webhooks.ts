/**
 * The SQLite store's webhooks port. The outbox's hot path (claiming deliveries, renewing claims, writing outcomes)
 * runs on the store's prepared statements, the outcomes inside its group commit; endpoint and decision-callback
 * administration is the shared Kysely queries'. Every endpoint change reloads the store's cache of listeners.
 */
import type SqliteDatabase from "better-sqlite3";
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
import type { EventsTable, WebhookDeliveriesTable, WebhookEndpointsTable } from "./schema.js";
import type { GroupCommit } from "./sqlite-group-commit.js";
import type { Statements } from "./sqlite-statements.js";

export interface SqliteWebhooksDeps {
  db: SqliteDatabase.Database;
  /** the store's prepared statements (they exist once it has migrated) */
  statements: () => Statements;
  commits: GroupCommit;
  /** the Kysely queries, for what is not on the hot path */
  shared: WebhookStore;
  /** an endpoint was added, changed, disabled or deleted */
  endpointsChanged: () => void;
}

export class SqliteWebhooks implements WebhookStore {
  constructor(private readonly deps: SqliteWebhooksDeps) {}

  async insertEndpoint(endpoint: WebhookEndpoint): Promise<void> {
    await this.deps.shared.insertEndpoint(endpoint);
    this.deps.endpointsChanged();
  }

  getEndpoint(id: string): Promise<WebhookEndpoint | undefined> {
    return this.deps.shared.getEndpoint(id);
  }

  listEndpoints(applicationId: string): Promise<WebhookEndpoint[]> {
    return this.deps.shared.listEndpoints(applicationId);
  }

  async updateEndpoint(endpoint: WebhookEndpoint): Promise<void> {
    await this.deps.shared.updateEndpoint(endpoint);
    this.deps.endpointsChanged();
  }

  async deleteEndpoint(id: string, now: number): Promise<void> {
    await this.deps.shared.deleteEndpoint(id, now);
    this.deps.endpointsChanged();
  }

  async claimDeliveries(now: number, claimUntil: number, limit: number): Promise<ClaimedDelivery[]> {
    const s = this.deps.statements();
    const claimed = this.deps.db.transaction(() => {
      const rows = s.claimDeliveries.all({ now, claim_until: claimUntil, limit }) as WebhookDeliveriesTable[];
      const endpoints = new Map<string, WebhookEndpoint>();
      const out: ClaimedDelivery[] = [];
      for (const row of rows) {
        const event = s.eventBySeq.get({ seq: row.event_seq }) as (EventsTable & { seq: number }) | undefined;
        let endpoint = endpoints.get(row.endpoint_id);
        if (!endpoint) {
          const e = s.endpointById.get({ id: row.endpoint_id }) as WebhookEndpointsTable | undefined;
          if (e) endpoint = toEndpoint(e);
          if (endpoint) endpoints.set(endpoint.id, endpoint);
        }
        if (event && endpoint) out.push({ delivery: toDelivery(row), event: toStoredEvent(event), endpoint });
      }
      return out;
    })();
    // `returning` gives no order: restore the event order the worker sends in.
    return claimed.sort((a, b) => a.delivery.eventSeq - b.delivery.eventSeq);
  }

  async renewClaims(ids: readonly string[], claimedUntil: number, until: number): Promise<number> {
    const s = this.deps.statements();
    let renewed = 0;
    await this.deps.commits.write(() => {
      for (const id of ids) renewed += s.renewClaim.run({ id, claimed_until: claimedUntil, until }).changes;
    });
    return renewed;
  }

  async completeDeliveries(results: DeliveryResult[], released: string[] = []): Promise<void> {
    const s = this.deps.statements();
    await this.deps.commits.write(() => {
      for (const id of released) s.releaseDelivery.run({ id });
      for (const r of results) {
        s.insertDeliveryAttempt.run(deliveryAttemptRow(r.attempt));
        s.completeDelivery.run({
          id: r.deliveryId,
          status: r.status,
          next_attempt_at: r.nextAttemptAt,
          status_code: r.attempt.statusCode,
          error: r.attempt.error,
          latency_ms: r.attempt.latencyMs,
          ended_at: r.status === "pending" ? null : r.attempt.attemptedAt,
        });
        if (r.status === "pending") s.deferChain.run({ id: r.deliveryId, next_attempt_at: r.nextAttemptAt });
        if (r.disableEndpoint) {
          s.disableEndpoint.run({ id: r.attempt.endpointId, reason: r.disableEndpoint, now: r.attempt.attemptedAt });
        }
      }
    });
    if (results.some((r) => r.disableEndpoint)) this.deps.endpointsChanged();
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
