/**
 * The outcome of webhook deliveries on PostgreSQL as one statement, whatever the number of deliveries: their
 * attempts written, the deliveries ended or rescheduled, the rest of a rescheduled delivery's chain moved behind it,
 * the claims of deliveries not sent released, and endpoints that answered 410 disabled. As statements of a
 * transaction this was two to four round trips per delivery, which capped the outbox well below what the receiver
 * and the claim could take.
 *
 * Each row is reached through an index from the batch (the primary key from an array of ids, and the (endpoint,
 * verification, event_seq) order index for a chain, fenced with `offset 0` so that the planner cannot make it a
 * join and scan the table from the outside), so the cost follows the batch and not the table, whatever the
 * statistics say. No row is updated twice in
 * the statement: a chain's rows behind a rescheduled delivery are never among the deliveries written (a group stops
 * at its first failure), which PostgreSQL requires of one statement's updates. Unnamed, so planned at each
 * execution with the tables' current size, as postgres-store.ts's reads by key are.
 */
import type pg from "pg";
import type { DeliveryResult } from "../events/webhook-store.js";

const COMPLETE_DELIVERIES = `
  with r as (
    select * from jsonb_to_recordset($1::jsonb) as r(delivery_id text, status text, next_attempt_at bigint,
      attempt_id text, endpoint_id text, attempted_at bigint, status_code integer, latency_ms integer, error text,
      disable_endpoint text)),
  attempts as (
    insert into webhook_attempts (id, delivery_id, endpoint_id, attempted_at, status_code, latency_ms, error)
    select attempt_id, delivery_id, endpoint_id, attempted_at, status_code, latency_ms, error from r),
  done as (
    update webhook_deliveries d set status = r.status, attempts = d.attempts + 1,
      next_attempt_at = r.next_attempt_at, claimed_until = 0, last_status_code = r.status_code,
      last_error = r.error, last_latency_ms = r.latency_ms,
      ended_at = case when r.status = 'pending' then null else r.attempted_at end
    from r where d.id = any(array(select delivery_id from r)) and d.id = r.delivery_id
    returning d.endpoint_id, d.verification_id, d.event_seq, r.status, r.next_attempt_at),
  behind as (
    select f.id, h.next_attempt_at from done h cross join lateral (
      select p.id from webhook_deliveries p
      where p.endpoint_id = h.endpoint_id and p.verification_id = h.verification_id
        and p.event_seq > h.event_seq and p.status = 'pending' and p.next_attempt_at < h.next_attempt_at
      offset 0) f
    where h.status = 'pending'),
  released as (select unnest($2::text[]) as id),
  moved as (
    update webhook_deliveries m
    set claimed_until = case when m.id = any($2::text[]) then 0 else m.claimed_until end,
      next_attempt_at = greatest(m.next_attempt_at,
        coalesce((select max(b.next_attempt_at) from behind b where b.id = m.id), 0))
    where m.id = any(array(select id from released union select id from behind))),
  disabled as (
    update webhook_endpoints w set enabled = 0, disabled_reason = r.disable_endpoint, updated_at = r.attempted_at
    from r where r.disable_endpoint is not null and w.id = r.endpoint_id)
  select count(*)::integer as written from done`;

export async function completeDeliveries(pool: pg.Pool, results: DeliveryResult[], released: string[]): Promise<void> {
  if (results.length === 0 && released.length === 0) return;
  const rows = results.map((r) => ({
    delivery_id: r.deliveryId,
    status: r.status,
    next_attempt_at: r.nextAttemptAt,
    attempt_id: r.attempt.id,
    endpoint_id: r.attempt.endpointId,
    attempted_at: r.attempt.attemptedAt,
    status_code: r.attempt.statusCode,
    latency_ms: r.attempt.latencyMs,
    error: r.attempt.error,
    disable_endpoint: r.disableEndpoint ?? null,
  }));
  await pool.query({ text: COMPLETE_DELIVERIES, values: [JSON.stringify(rows), released] });
}
