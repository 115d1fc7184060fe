/**
 * PostgreSQL only: migration 0007's flashverify_insert_events, same statement, in PL/pgSQL instead of SQL. A SQL
 * function holding a data-modifying statement cannot be inlined, and PostgreSQL parses and plans its body again at
 * every call (0.1-0.2 ms with an empty list of events, measured by calling it 2,000 times in a DO loop); PL/pgSQL
 * plans a statement once per connection and keeps the plan. Every create and save calls it.
 */
import { type Kysely, sql } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
export async function up(db: Kysely<any>): Promise<void> {
  if (!db.getExecutor().adapter.constructor.name.startsWith("Postgres")) return;
  await sql`create or replace function flashverify_insert_events(app_id text, new_events jsonb) returns void
    language plpgsql as $$
    begin
      with inserted as (
        insert into events (id, verification_id, application_id, attempt_id, type, data, created_at)
        select e.id, e.verification_id, e.application_id, e.attempt_id, e.type, e.data, e.created_at
        from jsonb_populate_recordset(null::events, new_events) with ordinality as e
        order by e.ordinality
        returning seq, id, verification_id, type, created_at
      )
      insert into webhook_deliveries (id, endpoint_id, event_seq, event_id, verification_id, status, attempts,
        next_attempt_at, claimed_until, created_at)
      select 'msg_' || substr(i.id, 5) || substr(w.id, 5), w.id, i.seq, i.id, i.verification_id, 'pending', 0,
        i.created_at, 0, i.created_at
      from inserted i
      join webhook_endpoints w on w.application_id = app_id and w.enabled = 1
        and (w.event_types = '*' or w.event_types like '%,' || i.type || ',%');
    end
    $$`.execute(db);
}
