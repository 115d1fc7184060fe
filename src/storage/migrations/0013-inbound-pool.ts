/**
 * The reverse flash call: an attempt records the number of the inbound pool its phone is to call (`dial`), and an
 * inbound INVITE finds the live verifications waiting on the number it dialled through a partial index that holds
 * only reverse flash calls, and the caller's own through a partial index of
 * pending verifications by phone (a number shared by thousands of verifications costs a call no more than one).
 */
import { type Kysely, sql } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("attempts").addColumn("dial", "text").execute();
  await sql`create index attempts_by_dial on attempts (dial, expires_at) where dial is not null`.execute(db);
  await sql`create index verifications_pending_by_phone on verifications (phone) where status = 'pending'`.execute(db);
}
