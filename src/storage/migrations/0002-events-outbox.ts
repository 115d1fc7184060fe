/**
 * Events that are never lost: events carry their application (for `/v1/events`), webhook endpoints and their
 * durable delivery rows (the outbox, written in the event's own transaction) with a log of every attempt, one
 * durable timer per verification, and each application's pre-send decision callback.
 */
import { type Kysely, sql } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("events").addColumn("application_id", "text").execute();
  await sql`update events set application_id =
    (select application_id from verifications where verifications.id = events.verification_id)`.execute(db);
  await db.schema.createIndex("events_by_application").on("events").columns(["application_id", "seq"]).execute();

  await db.schema
    .createTable("webhook_endpoints")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("application_id", "text", (c) => c.notNull())
    .addColumn("url", "text", (c) => c.notNull())
    .addColumn("description", "text")
    // `*` or `,type,type,`: matched with one LIKE inside the event's transaction, on either dialect
    .addColumn("event_types", "text", (c) => c.notNull())
    .addColumn("enabled", "integer", (c) => c.notNull())
    .addColumn("disabled_reason", "text")
    .addColumn("secret", "text", (c) => c.notNull())
    .addColumn("previous_secret", "text")
    .addColumn("previous_secret_expires_at", "bigint")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("webhook_endpoints_by_application")
    .on("webhook_endpoints")
    .columns(["application_id", "enabled"])
    .execute();

  await db.schema
    .createTable("webhook_deliveries")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("endpoint_id", "text", (c) => c.notNull())
    .addColumn("event_seq", "bigint", (c) => c.notNull())
    .addColumn("event_id", "text", (c) => c.notNull())
    .addColumn("verification_id", "text", (c) => c.notNull())
    // pending | delivered | failed (gave up, or the endpoint was disabled)
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull())
    .addColumn("next_attempt_at", "bigint", (c) => c.notNull())
    // a worker's claim: nobody else sends this row before then
    .addColumn("claimed_until", "bigint", (c) => c.notNull())
    .addColumn("last_status_code", "integer")
    .addColumn("last_error", "text")
    .addColumn("last_latency_ms", "integer")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("ended_at", "bigint")
    .execute();
  await db.schema
    .createIndex("webhook_deliveries_due")
    .on("webhook_deliveries")
    .columns(["status", "next_attempt_at"])
    .execute();
  // Ordering per verification and endpoint: a delivery waits for the earlier ones of its verification.
  await db.schema
    .createIndex("webhook_deliveries_order")
    .on("webhook_deliveries")
    .columns(["endpoint_id", "verification_id", "event_seq"])
    .execute();
  await db.schema
    .createIndex("webhook_deliveries_log")
    .on("webhook_deliveries")
    .columns(["endpoint_id", "created_at"])
    .execute();

  await db.schema
    .createTable("webhook_attempts")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("delivery_id", "text", (c) => c.notNull())
    .addColumn("endpoint_id", "text", (c) => c.notNull())
    .addColumn("attempted_at", "bigint", (c) => c.notNull())
    .addColumn("status_code", "integer")
    .addColumn("latency_ms", "integer", (c) => c.notNull())
    .addColumn("error", "text")
    .execute();
  await db.schema
    .createIndex("webhook_attempts_by_delivery")
    .on("webhook_attempts")
    .columns(["delivery_id", "attempted_at"])
    .execute();

  await db.schema
    .createTable("timers")
    .addColumn("verification_id", "text", (c) => c.primaryKey())
    .addColumn("due_at", "bigint", (c) => c.notNull())
    .addColumn("claimed_until", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("timers_due").on("timers").column("due_at").execute();
  // Verifications already in flight get their timer now: their expiry, or at once when an attempt is still live.
  await sql`insert into timers (verification_id, due_at, claimed_until)
    select id, case when exists (select 1 from attempts a where a.verification_id = verifications.id
      and a.status in ('dialing', 'ringing')) then 0 else expires_at end, 0
    from verifications where status = 'pending'`.execute(db);

  await db.schema
    .createTable("decision_callbacks")
    .addColumn("application_id", "text", (c) => c.primaryKey())
    .addColumn("url", "text", (c) => c.notNull())
    .addColumn("secret", "text", (c) => c.notNull())
    .addColumn("timeout_ms", "integer", (c) => c.notNull())
    .addColumn("default_decision", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
}
