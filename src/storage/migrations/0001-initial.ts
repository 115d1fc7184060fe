/**
 * The first schema: applications and keys, pools, verifications with attempts, CLI leases, events, idempotency
 * keys, settings.
 */
import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = isPostgres(db);

  await db.schema
    .createTable("applications")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("api_keys")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("application_id", "text", (c) => c.notNull().references("applications.id"))
    .addColumn("key_hash", "text", (c) => c.notNull().unique())
    .addColumn("label", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("pools")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("numbers", "text", (c) => c.notNull())
    .addColumn("code_length", "integer", (c) => c.notNull())
    .addColumn("countries", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("verifications")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("application_id", "text", (c) => c.notNull())
    .addColumn("phone", "text", (c) => c.notNull())
    .addColumn("country", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("reason", "text")
    .addColumn("reference", "text")
    .addColumn("metadata", "text")
    .addColumn("client", "text")
    .addColumn("client_token_hash", "text", (c) => c.notNull())
    .addColumn("max_checks", "integer", (c) => c.notNull())
    .addColumn("checks_used", "integer", (c) => c.notNull())
    .addColumn("guess_probability", "double precision", (c) => c.notNull())
    .addColumn("verified_caller_id", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addColumn("ended_at", "bigint")
    .addColumn("version", "integer", (c) => c.notNull())
    .execute();
  // The expiry sweep reads only pending rows.
  await db.schema
    .createIndex("verifications_pending_expiry")
    .on("verifications")
    .columns(["status", "expires_at"])
    .execute();

  await db.schema
    .createTable("attempts")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("verification_id", "text", (c) => c.notNull())
    .addColumn("seq", "integer", (c) => c.notNull())
    .addColumn("channel", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("reason", "text")
    .addColumn("sip_code", "integer")
    .addColumn("pool_id", "text", (c) => c.notNull())
    .addColumn("cli_key", "text", (c) => c.notNull())
    .addColumn("cli_prefix", "text", (c) => c.notNull())
    .addColumn("code_length", "integer", (c) => c.notNull())
    .addColumn("code_mac", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("dialed_at", "bigint")
    .addColumn("ringing_at", "bigint")
    .addColumn("ended_at", "bigint")
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("attempts_by_verification")
    .on("attempts")
    .columns(["verification_id", "seq"])
    .unique()
    .execute();

  // Start-up recovery looks for attempts left in flight.
  await db.schema.createIndex("attempts_by_status").on("attempts").column("status").execute();

  await db.schema
    .createTable("cli_leases")
    .addColumn("pool_id", "text", (c) => c.notNull())
    // Keyed by the CLI alone: pools may overlap, and one number must never serve two live verifications.
    .addColumn("cli_key", "text", (c) => c.primaryKey())
    .addColumn("verification_id", "text", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("cli_leases_by_verification").on("cli_leases").column("verification_id").execute();
  await db.schema.createIndex("cli_leases_by_pool").on("cli_leases").column("pool_id").execute();

  await db.schema
    .createTable("phone_last_cli")
    .addColumn("phone", "text", (c) => c.primaryKey())
    .addColumn("cli_key", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("events")
    .addColumn("seq", postgres ? "bigserial" : "integer", (c) =>
      postgres ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn("id", "text", (c) => c.notNull().unique())
    .addColumn("verification_id", "text", (c) => c.notNull())
    .addColumn("attempt_id", "text")
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("data", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("events_by_verification").on("events").columns(["verification_id", "seq"]).execute();

  await db.schema
    .createTable("idempotency_keys")
    .addColumn("application_id", "text", (c) => c.notNull())
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("request_hash", "text", (c) => c.notNull())
    .addColumn("verification_id", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("idempotency_keys_pk", ["application_id", "key"])
    .execute();

  await db.schema
    .createTable("settings")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("value", "text", (c) => c.notNull())
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
function isPostgres(db: Kysely<any>): boolean {
  return db.getExecutor().adapter.constructor.name.startsWith("Postgres");
}
