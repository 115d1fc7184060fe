/**
 * The operator's views: API keys can be revoked (kept, so the list shows when), and verifications are read per
 * application by creation time (the dashboard's list, newest first, and its statistics over a time range).
 */
import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("api_keys").addColumn("revoked_at", "bigint").execute();
  await db.schema
    .createIndex("verifications_by_application")
    .on("verifications")
    .columns(["application_id", "created_at"])
    .execute();
}
