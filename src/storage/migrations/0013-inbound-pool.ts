/**
 * The reverse flash call: an attempt records the number of the inbound pool its phone is to call (`dial`), and an
 * inbound INVITE finds the live verifications waiting on the number it dialled through a partial index that holds
 * only reverse flash calls.
 */
import { type Kysely, sql } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("attempts").addColumn("dial", "text").execute();
  await sql`create index attempts_by_dial on attempts (dial, expires_at) where dial is not null`.execute(db);
}
