/**
 * PostgreSQL only: the claim of due webhook deliveries as a function whose plan does not depend on the planner's
 * statistics. The claim takes the heads of chains (the oldest pending delivery of one verification to one endpoint,
 * due and unclaimed), walking the due index oldest first and probing each candidate's chain through the
 * (endpoint, verification, event_seq) index, so its cost follows the batch it returns and not the backlog behind it;
 * with each head it takes the rest of its chain, which no other node can claim while the head is pending. Rows are
 * locked one by one (`for update of d skip locked`): no lock on the endpoint serialises the nodes.
 *
 * Statistics from an empty table (autovacuum behind a burst) once made the planner hash the whole backlog for every
 * claim. The function's own settings rule out the plans that read the backlog (sequential scans, sorts, hash and
 * merge joins), leaving index scans and nested loops whatever the statistics say.
 */
import { type Kysely, sql } from "kysely";

/** A head's chain members taken with it, at most. */
export const FOLLOWERS_PER_HEAD = 50;

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
export async function up(db: Kysely<any>): Promise<void> {
  if (!db.getExecutor().adapter.constructor.name.startsWith("Postgres")) return;
  await sql`create or replace function flashverify_claim_deliveries(p_now bigint, p_until bigint, p_limit integer)
    returns table (delivery json, event json, endpoint json)
    language sql
    set enable_seqscan = off set enable_bitmapscan = off set enable_sort = off
    set enable_hashjoin = off set enable_mergejoin = off set enable_material = off
    as $$
      with heads as (
        select d.id, d.endpoint_id, d.verification_id, d.event_seq from webhook_deliveries d
        where d.status = 'pending' and d.next_attempt_at <= p_now and d.claimed_until <= p_now
          and not exists (select 1 from webhook_deliveries p
            where p.endpoint_id = d.endpoint_id and p.verification_id = d.verification_id
              and p.event_seq < d.event_seq and p.status = 'pending')
          and exists (select 1 from webhook_endpoints w where w.id = d.endpoint_id and w.enabled = 1)
        order by d.next_attempt_at
        limit p_limit
        for update of d skip locked),
      taken as (
        select h.id from heads h
        union all
        select f.id from heads h cross join lateral (
          select p.id from webhook_deliveries p
          where p.endpoint_id = h.endpoint_id and p.verification_id = h.verification_id
            and p.event_seq > h.event_seq and p.status = 'pending'
          order by p.event_seq
          limit ${sql.lit(FOLLOWERS_PER_HEAD)}) f),
      claimed as (
        update webhook_deliveries u set claimed_until = p_until from taken t where u.id = t.id returning u.*)
      select row_to_json(c), row_to_json(e), row_to_json(w)
      from claimed c join events e on e.seq = c.event_seq join webhook_endpoints w on w.id = c.endpoint_id
      order by c.event_seq
    $$`.execute(db);
}
