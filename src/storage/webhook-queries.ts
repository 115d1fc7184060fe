/**
 * Webhook endpoints, their deliveries (the outbox's claims, outcomes and chains) and the decision callbacks over
 * Kysely, for SQLite and PostgreSQL alike; PostgreSQL's store replaces the claim and the outcomes with its own
 * single statements (postgres-store.ts), SQLite's with prepared statements in its group commit (sqlite-webhooks.ts).
 */
import type { Kysely, SelectQueryBuilder } from "kysely";
import type {
  ClaimedDelivery,
  DecisionCallback,
  DeliveryAttempt,
  DeliveryResult,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookStore,
} from "../events/webhook-store.js";
import {
  decisionCallbackRow,
  deliveryAttemptRow,
  endpointRow,
  toDecisionCallback,
  toDelivery,
  toDeliveryAttempt,
  toEndpoint,
  toStoredEvent,
} from "./rows.js";
import type { Database } from "./schema.js";

export class WebhookQueries implements WebhookStore {
  /** @param skipLocked a claim skips rows another node is claiming (PostgreSQL) */
  constructor(
    protected readonly db: Kysely<Database>,
    private readonly skipLocked: boolean,
  ) {}

  /** The rows a claim picks: locked, and skipping those another node is claiming, where the database can. */
  // biome-ignore lint/suspicious/noExplicitAny: applies to any claim's select
  private claimable<Q extends SelectQueryBuilder<any, any, any>>(query: Q): Q {
    return (this.skipLocked ? query.forUpdate().skipLocked() : query) as Q;
  }

  async insertEndpoint(endpoint: WebhookEndpoint): Promise<void> {
    await this.db.insertInto("webhook_endpoints").values(endpointRow(endpoint)).execute();
  }

  async getEndpoint(id: string): Promise<WebhookEndpoint | undefined> {
    const row = await this.db.selectFrom("webhook_endpoints").selectAll().where("id", "=", id).executeTakeFirst();
    return row && toEndpoint(row);
  }

  async listEndpoints(applicationId: string): Promise<WebhookEndpoint[]> {
    const rows = await this.db
      .selectFrom("webhook_endpoints")
      .selectAll()
      .where("application_id", "=", applicationId)
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    return rows.map(toEndpoint);
  }

  async updateEndpoint(endpoint: WebhookEndpoint): Promise<void> {
    const { id, ...changes } = endpointRow(endpoint);
    await this.db.updateTable("webhook_endpoints").set(changes).where("id", "=", id).execute();
  }

  async deleteEndpoint(id: string, now: number): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom("webhook_endpoints").where("id", "=", id).execute();
      await tx
        .updateTable("webhook_deliveries")
        .set({ status: "failed", last_error: "endpoint deleted", ended_at: now, claimed_until: 0 })
        .where("endpoint_id", "=", id)
        .where("status", "=", "pending")
        .execute();
    });
  }

  /** Chain heads and their followers, as sqlite-store.ts's CLAIM_DELIVERIES_SQL (which says why). */
  async claimDeliveries(now: number, claimUntil: number, limit: number): Promise<ClaimedDelivery[]> {
    return this.db.transaction().execute(async (tx) => {
      const heads = await this.claimable(
        tx
          .selectFrom("webhook_deliveries as d")
          .select(["d.id", "d.endpoint_id", "d.verification_id", "d.event_seq"])
          .where("d.status", "=", "pending")
          .where("d.next_attempt_at", "<=", now)
          .where("d.claimed_until", "<=", now)
          .where(({ not, exists, selectFrom }) =>
            not(
              exists(
                selectFrom("webhook_deliveries as p")
                  .select("p.id")
                  .whereRef("p.endpoint_id", "=", "d.endpoint_id")
                  .whereRef("p.verification_id", "=", "d.verification_id")
                  .whereRef("p.event_seq", "<", "d.event_seq")
                  .where("p.status", "=", "pending"),
              ),
            ),
          )
          .where(({ exists, selectFrom }) =>
            exists(
              selectFrom("webhook_endpoints as w")
                .select("w.id")
                .whereRef("w.id", "=", "d.endpoint_id")
                .where("w.enabled", "=", 1),
            ),
          )
          .orderBy("d.next_attempt_at")
          .limit(limit),
      ).execute();
      const ids = heads.map((h) => h.id);
      for (const h of heads) {
        const followers = await tx
          .selectFrom("webhook_deliveries")
          .select("id")
          .where("endpoint_id", "=", h.endpoint_id)
          .where("verification_id", "=", h.verification_id)
          .where("event_seq", ">", h.event_seq)
          .where("status", "=", "pending")
          .orderBy("event_seq")
          .execute();
        ids.push(...followers.map((f) => f.id));
      }
      if (ids.length === 0) return [];
      const rows = await tx
        .updateTable("webhook_deliveries")
        .set({ claimed_until: claimUntil })
        .where("id", "in", ids)
        .returningAll()
        .execute();
      const out: ClaimedDelivery[] = [];
      const endpoints = new Map<string, WebhookEndpoint>();
      for (const row of rows) {
        const event = await tx.selectFrom("events").selectAll().where("seq", "=", row.event_seq).executeTakeFirst();
        let endpoint = endpoints.get(row.endpoint_id);
        if (!endpoint) {
          const e = await tx
            .selectFrom("webhook_endpoints")
            .selectAll()
            .where("id", "=", row.endpoint_id)
            .executeTakeFirst();
          endpoint = e && toEndpoint(e);
          if (endpoint) endpoints.set(endpoint.id, endpoint);
        }
        if (event && endpoint) out.push({ delivery: toDelivery(row), event: toStoredEvent(event), endpoint });
      }
      return out.sort((a, b) => a.delivery.eventSeq - b.delivery.eventSeq);
    });
  }

  async renewClaims(ids: readonly string[], claimedUntil: number, until: number): Promise<number> {
    if (ids.length === 0) return 0;
    const updated = await this.db
      .updateTable("webhook_deliveries")
      .set({ claimed_until: until })
      .where("id", "in", ids)
      .where("claimed_until", "=", claimedUntil)
      .where("status", "=", "pending")
      .executeTakeFirst();
    return Number(updated.numUpdatedRows);
  }

  async completeDeliveries(results: DeliveryResult[], released: string[] = []): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      if (released.length > 0) {
        await tx.updateTable("webhook_deliveries").set({ claimed_until: 0 }).where("id", "in", released).execute();
      }
      for (const r of results) {
        await tx.insertInto("webhook_attempts").values(deliveryAttemptRow(r.attempt)).execute();
        await tx
          .updateTable("webhook_deliveries")
          .set((eb) => ({
            status: r.status,
            attempts: eb("attempts", "+", 1),
            next_attempt_at: r.nextAttemptAt,
            claimed_until: 0,
            last_status_code: r.attempt.statusCode,
            last_error: r.attempt.error,
            last_latency_ms: r.attempt.latencyMs,
            ended_at: r.status === "pending" ? null : r.attempt.attemptedAt,
          }))
          .where("id", "=", r.deliveryId)
          .execute();
        const head =
          r.status === "pending"
            ? await tx
                .selectFrom("webhook_deliveries")
                .select(["endpoint_id", "verification_id", "event_seq"])
                .where("id", "=", r.deliveryId)
                .executeTakeFirst()
            : undefined;
        if (head) {
          // The rest of the chain waits behind its head: out of the due range while the head backs off.
          await tx
            .updateTable("webhook_deliveries")
            .set({ next_attempt_at: r.nextAttemptAt })
            .where("status", "=", "pending")
            .where("endpoint_id", "=", head.endpoint_id)
            .where("verification_id", "=", head.verification_id)
            .where("event_seq", ">", head.event_seq)
            .where("next_attempt_at", "<", r.nextAttemptAt)
            .execute();
        }
        if (r.disableEndpoint) {
          await tx
            .updateTable("webhook_endpoints")
            .set({ enabled: 0, disabled_reason: r.disableEndpoint, updated_at: r.attempt.attemptedAt })
            .where("id", "=", r.attempt.endpointId)
            .execute();
        }
      }
    });
  }

  async listDeliveries(endpointId: string, limit: number, before?: number): Promise<WebhookDelivery[]> {
    let query = this.db.selectFrom("webhook_deliveries").selectAll().where("endpoint_id", "=", endpointId);
    if (before !== undefined) query = query.where("event_seq", "<", before);
    const rows = await query.orderBy("event_seq", "desc").limit(limit).execute();
    return rows.map(toDelivery);
  }

  async getDelivery(id: string): Promise<{ delivery: WebhookDelivery; attempts: DeliveryAttempt[] } | undefined> {
    const row = await this.db.selectFrom("webhook_deliveries").selectAll().where("id", "=", id).executeTakeFirst();
    if (!row) return undefined;
    const attempts = await this.db
      .selectFrom("webhook_attempts")
      .selectAll()
      .where("delivery_id", "=", id)
      .orderBy("attempted_at")
      .orderBy("id")
      .execute();
    return { delivery: toDelivery(row), attempts: attempts.map(toDeliveryAttempt) };
  }

  async replayDelivery(id: string, now: number): Promise<boolean> {
    const updated = await this.db
      .updateTable("webhook_deliveries")
      .set({ status: "pending", attempts: 0, next_attempt_at: now, claimed_until: 0, ended_at: null })
      .where("id", "=", id)
      .executeTakeFirst();
    return Number(updated.numUpdatedRows) === 1;
  }

  async getDecisionCallback(applicationId: string): Promise<DecisionCallback | undefined> {
    const row = await this.db
      .selectFrom("decision_callbacks")
      .selectAll()
      .where("application_id", "=", applicationId)
      .executeTakeFirst();
    return row && toDecisionCallback(row);
  }

  async putDecisionCallback(callback: DecisionCallback): Promise<void> {
    const { application_id: _id, created_at: _created, ...changes } = decisionCallbackRow(callback);
    await this.db
      .insertInto("decision_callbacks")
      .values(decisionCallbackRow(callback))
      .onConflict((oc) => oc.column("application_id").doUpdateSet(changes))
      .execute();
  }

  async deleteDecisionCallback(applicationId: string): Promise<boolean> {
    const deleted = await this.db
      .deleteFrom("decision_callbacks")
      .where("application_id", "=", applicationId)
      .executeTakeFirst();
    return Number(deleted.numDeletedRows) === 1;
  }
}
