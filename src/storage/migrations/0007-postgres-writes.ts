/**
 * PostgreSQL only: a verification's create and its saves as one statement each. Every statement of a client is a
 * round trip (and, on a busy host, a context switch each way), and a create or save used to be ten or more of them
 * inside BEGIN/COMMIT; these functions take the whole write as one jsonb argument and do it in the statement's own
 * transaction. SQLite runs in-process and has no round trips to save, so nothing is created there.
 *
 * The functions name the columns they update: a later migration that adds a column to `verifications`,
 * `attempts` or `webhook_deliveries` must replace them (inserts take every column of the row they are given).
 */
import { type Kysely, sql } from "kysely";

/**
 * The events of one write, in order, and their outbox rows: one statement, which migration 0009 moves into PL/pgSQL
 * unchanged.
 */
export const INSERT_EVENTS = `
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
        and (w.event_types = '*' or w.event_types like '%,' || i.type || ',%')`;

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
export async function up(db: Kysely<any>): Promise<void> {
  if (!db.getExecutor().adapter.constructor.name.startsWith("Postgres")) return;

  // The events of one write, in order, and their outbox rows: one delivery per enabled endpoint of the
  // application that accepts the type (the same LIKE as the dialect-neutral store).
  await sql`create or replace function flashverify_insert_events(app_id text, new_events jsonb) returns void
    language sql as $$
      ${sql.raw(INSERT_EVENTS)}
    $$`.execute(db);

  // Returns 'created', 'idempotency_taken' or 'cli_taken' (then nothing is written).
  await sql`create or replace function flashverify_create_verification(p jsonb) returns text
    language plpgsql as $$
    declare
      v constant jsonb := p->'verification';
      n integer;
    begin
      if jsonb_typeof(p->'idempotency') = 'object' then
        insert into idempotency_keys (application_id, key, request_hash, verification_id, created_at)
        select i.application_id, i.key, i.request_hash, i.verification_id, i.created_at
        from jsonb_populate_record(null::idempotency_keys, p->'idempotency') i
        on conflict (application_id, key) do nothing;
        get diagnostics n = row_count;
        if n = 0 then return 'idempotency_taken'; end if;
      end if;
      -- The lease is taken when free or stale; a live lease on this CLI means another draw is needed.
      if jsonb_typeof(p->'lease') = 'object' then
        insert into cli_leases as l (pool_id, cli_key, verification_id, expires_at)
        select r.pool_id, r.cli_key, r.verification_id, r.expires_at
        from jsonb_populate_record(null::cli_leases, p->'lease') r
        on conflict (cli_key) do update
          set pool_id = excluded.pool_id, verification_id = excluded.verification_id, expires_at = excluded.expires_at
          where l.expires_at < (v->>'created_at')::bigint;
        get diagnostics n = row_count;
        if n = 0 then
          -- Gives back the key claimed above: the row is this transaction's own, no one else has seen it.
          if jsonb_typeof(p->'idempotency') = 'object' then
            delete from idempotency_keys
            where application_id = p->'idempotency'->>'application_id' and key = p->'idempotency'->>'key';
          end if;
          return 'cli_taken';
        end if;
      end if;
      insert into verifications select * from jsonb_populate_record(null::verifications, v);
      insert into attempts select * from jsonb_populate_recordset(null::attempts, p->'attempts');
      if p->>'phone_last_cli' is not null then
        insert into phone_last_cli (phone, cli_key) values (v->>'phone', p->>'phone_last_cli')
        on conflict (phone) do update set cli_key = excluded.cli_key;
      end if;
      perform flashverify_insert_events(v->>'application_id', p->'events');
      if p->>'wake_at' is not null then
        insert into timers (verification_id, due_at, claimed_until) values (v->>'id', (p->>'wake_at')::bigint, 0)
        on conflict (verification_id) do update set due_at = excluded.due_at, claimed_until = 0;
      end if;
      return 'created';
    end
    $$`.execute(db);

  // False, writing nothing, when the stored version is no longer the expected one. The key 'wake_at' absent leaves
  // the timer, null deletes it.
  await sql`create or replace function flashverify_save_verification(p jsonb) returns boolean
    language plpgsql as $$
    declare
      r verifications := jsonb_populate_record(null::verifications, p->'verification');
      n integer;
    begin
      update verifications set application_id = r.application_id, phone = r.phone, country = r.country,
        status = r.status, reason = r.reason, reference = r.reference, metadata = r.metadata, client = r.client,
        client_token_hash = r.client_token_hash, max_checks = r.max_checks, checks_used = r.checks_used,
        guess_probability = r.guess_probability, verified_caller_id = r.verified_caller_id,
        created_at = r.created_at, updated_at = r.updated_at, expires_at = r.expires_at, ended_at = r.ended_at,
        version = r.version, risk = r.risk, workflow = r.workflow, step = r.step, step_deadline = r.step_deadline,
        email = r.email
      where id = r.id and version = (p->>'expected_version')::integer;
      get diagnostics n = row_count;
      if n <> 1 then return false; end if;
      insert into attempts select * from jsonb_populate_recordset(null::attempts, p->'attempts')
      on conflict (id) do update set verification_id = excluded.verification_id, seq = excluded.seq,
        channel = excluded.channel, status = excluded.status, reason = excluded.reason,
        sip_code = excluded.sip_code, pool_id = excluded.pool_id, cli_key = excluded.cli_key,
        cli_prefix = excluded.cli_prefix, code_length = excluded.code_length, code_mac = excluded.code_mac,
        created_at = excluded.created_at, dialed_at = excluded.dialed_at, ringing_at = excluded.ringing_at,
        ended_at = excluded.ended_at, expires_at = excluded.expires_at, trunk_id = excluded.trunk_id,
        invited_at = excluded.invited_at, reason_header = excluded.reason_header, detail = excluded.detail,
        cost = excluded.cost;
      if (p->>'release_leases')::boolean then
        delete from cli_leases where verification_id = r.id;
      end if;
      perform flashverify_insert_events(r.application_id, p->'events');
      if p ? 'wake_at' then
        if p->>'wake_at' is null then
          delete from timers where verification_id = r.id;
        else
          insert into timers (verification_id, due_at, claimed_until) values (r.id, (p->>'wake_at')::bigint, 0)
          on conflict (verification_id) do update set due_at = excluded.due_at, claimed_until = 0;
        end if;
      end if;
      return true;
    end
    $$`.execute(db);
}
