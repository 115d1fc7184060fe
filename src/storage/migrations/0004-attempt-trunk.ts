/**
 * Attempts record which carrier trunk carried the call, when its INVITE went out (post-dial delay after queueing and
 * failover) and the final response's Reason header.
 */
import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("attempts").addColumn("trunk_id", "text").execute();
  await db.schema.alterTable("attempts").addColumn("invited_at", "bigint").execute();
  await db.schema.alterTable("attempts").addColumn("reason_header", "text").execute();
}
