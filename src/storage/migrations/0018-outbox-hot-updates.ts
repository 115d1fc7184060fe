/**
 * The outbox's updates touch fewer index entries. Each delivery is updated at least twice (its claim, its outcome)
 * besides renewals and releases, and every update that wrote a new index entry in each of the table's four indexes
 * was most of what PostgreSQL spent on a delivery.
 * - The due index covers pending deliveries only (`where status = 'pending'`, the one condition every reader of it
 *   has): a delivery that ends leaves it instead of adding an entry, and a claim's scan passes no ended rows.
 * - PostgreSQL: the table's pages are filled to half (`fillfactor`), so that a claim, a renewal or a release (they
 *   change `claimed_until`, which no index holds) writes the new row version beside the old one without any index
 *   entry (a HOT update). A claim updates every row of its chains at once, a page's worth and more, so half a page
 *   is what leaves room for each of its rows; pages written before this keep their old filling.
 */
import { type Kysely, sql } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("webhook_deliveries_due").execute();
  await db.schema
    .createIndex("webhook_deliveries_due")
    .on("webhook_deliveries")
    .column("next_attempt_at")
    .where(sql.ref("status"), "=", "pending")
    .execute();
  if (!db.getExecutor().adapter.constructor.name.startsWith("Postgres")) return;
  await sql`alter table webhook_deliveries set (fillfactor = 50)`.execute(db);
}
