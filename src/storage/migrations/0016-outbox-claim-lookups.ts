/**
 * PostgreSQL only: migration 0011's claim, with its last lookups fixed to follow the batch too. With statistics
 * from an empty table, the planner joined the claimed rows to `events` with `events` outside (every event read
 * once per claimed row: 28 s for one claim of 256 deliveries over 100,000 events), since 0011's settings leave a
 * nested loop either way round. Here each claimed row looks up its own event and endpoint (`lateral`, fenced by
 * `offset 0` so that the planner cannot turn it back into a join it orders), and the claim update reaches its rows
 * by primary key from an array, so no join order is left to the statistics. And no JIT: the settings that rule out
 * the backlog's plans price the sort that remains at 10^10, far over `jit_above_cost`, so 0011 compiled every
 * claim with LLVM (about 0.8 s of a claim's 0.82 s, measured with EXPLAIN ANALYZE over a 100,000 backlog). Same
 * arguments and result columns as 0011: a node still running the previous code calls it unchanged.
 */
import { type Kysely, sql } from "kysely";
import { FOLLOWERS_PER_HEAD } from "./0011-outbox-claim.js";

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
export async function up(db: Kysely<any>): Promise<void> {
  if (!db.getExecutor().adapter.constructor.name.startsWith("Postgres")) return;
  await sql`create or replace function flashverify_claim_deliveries(p_now bigint, p_until bigint, p_limit integer)
    returns table (delivery json, event json, endpoint json)
    language sql
    set enable_seqscan = off set enable_bitmapscan = off set enable_sort = off
    set enable_hashjoin = off set enable_mergejoin = off set enable_material = off set jit = off
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
        update webhook_deliveries u set claimed_until = p_until
        where u.id = any(array(select id from taken)) returning u.*)
      select row_to_json(c), row_to_json(e), row_to_json(w)
      from claimed c
        cross join lateral (select * from events x where x.seq = c.event_seq offset 0) e
        cross join lateral (select * from webhook_endpoints y where y.id = c.endpoint_id offset 0) w
      order by c.event_seq
    $$`.execute(db);
}
