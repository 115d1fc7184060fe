/**
 * The Sinch-compatible Verification API: Sinch credential pairs (an application key and its secret, kept sealed
 * under the server secret because the signed scheme needs the secret itself), the reads by reference and by number
 * its status and report endpoints make, and the shape a decision callback and a webhook endpoint speak
 * (`flashverify`/`standard`, or `sinch`: Sinch's callback events, signed the way Sinch signs them).
 */
import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("sinch_credentials")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("application_id", "text", (c) => c.notNull())
    .addColumn("application_key", "text", (c) => c.notNull().unique())
    .addColumn("secret_sealed", "text", (c) => c.notNull())
    .addColumn("label", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("revoked_at", "bigint")
    .execute();
  await db.schema
    .createIndex("sinch_credentials_by_application")
    .on("sinch_credentials")
    .columns(["application_id", "created_at"])
    .execute();
  await db.schema
    .createIndex("verifications_by_reference")
    .on("verifications")
    .columns(["application_id", "reference", "created_at"])
    .execute();
  await db.schema
    .createIndex("verifications_by_phone")
    .on("verifications")
    .columns(["application_id", "phone", "created_at"])
    .execute();
  await db.schema
    .alterTable("decision_callbacks")
    .addColumn("format", "text", (c) => c.notNull().defaultTo("flashverify"))
    .execute();
  await db.schema
    .alterTable("webhook_endpoints")
    .addColumn("format", "text", (c) => c.notNull().defaultTo("standard"))
    .execute();
}
