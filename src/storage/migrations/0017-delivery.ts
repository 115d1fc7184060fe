/**
 * Delivery as the phone and the outcomes tell it, per destination network and trunk.
 * - `attempts.phone_report`: JSON of what the phone reported about a flash call (POST .../report), or null.
 * - `verifications.channel_choice`: JSON of why an automatic workflow chose its channels (set at the start only).
 * - `delivery_counts`: the rolling counters of the delivery measurement, one row per network, channel, trunk ('' for
 *   none) and time bucket, incremented by every node, so the measurement is shared and outlives a restart.
 * PostgreSQL's save function names the attempt columns it updates (migration 0007): it is replaced to write the report.
 */
import { type Kysely, sql } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("attempts").addColumn("phone_report", "text").execute();
  await db.schema.alterTable("verifications").addColumn("channel_choice", "text").execute();
  await db.schema
    .createTable("delivery_counts")
    .addColumn("network", "text", (c) => c.notNull())
    .addColumn("channel", "text", (c) => c.notNull())
    .addColumn("trunk", "text", (c) => c.notNull())
    .addColumn("bucket", "bigint", (c) => c.notNull())
    .addColumn("placed", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("delivered", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("verified", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("verify_ms", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("received", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("late", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("not_received", "bigint", (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint("delivery_counts_pk", ["network", "channel", "trunk", "bucket"])
    .execute();
  await db.schema.createIndex("delivery_counts_by_bucket").on("delivery_counts").column("bucket").execute();

  if (!db.getExecutor().adapter.constructor.name.startsWith("Postgres")) return;
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
        cost = excluded.cost, phone_report = excluded.phone_report;
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
