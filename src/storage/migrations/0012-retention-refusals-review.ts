/**
 * Personal data has an end, refusals have a record, and app reviewers have numbers of their own.
 * - Retention and erasure: a verification whose phone number, email, client (IP, user agent, device) and provider
 *   texts were removed says when (`redacted_at`), why (`redaction`: `retention` or `erasure`) and, for an erasure,
 *   who asked (`erased_by`, an API key id). The retention job looks for ended verifications not yet redacted, oldest
 *   end first, through a partial index that holds only those.
 * - Refusals: a start the fraud controls refused is kept as a verification in status `refused`, with the refusal
 *   (`refusal`: JSON of its code, message and details) beside the risk assessment it already has.
 * - Review numbers: an application's numbers that verify with a fixed code (or caller ID) and never send anything,
 *   for app-store reviewers and synthetic checks; each is audited (who added it and when, who removed it and when,
 *   kept after removal), and a verification of one names it (`review_number_id`).
 */
import { type Kysely, sql } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("verifications").addColumn("redacted_at", "bigint").execute();
  await db.schema.alterTable("verifications").addColumn("redaction", "text").execute();
  await db.schema.alterTable("verifications").addColumn("erased_by", "text").execute();
  await db.schema.alterTable("verifications").addColumn("refusal", "text").execute();
  await db.schema.alterTable("verifications").addColumn("review_number_id", "text").execute();
  await sql`create index verifications_to_redact on verifications (ended_at)
    where redacted_at is null and ended_at is not null`.execute(db);

  await db.schema
    .createTable("review_numbers")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("application_id", "text", (c) => c.notNull())
    .addColumn("phone", "text", (c) => c.notNull())
    .addColumn("code", "text")
    .addColumn("caller_id", "text")
    .addColumn("label", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("created_by", "text", (c) => c.notNull())
    .addColumn("removed_at", "bigint")
    .addColumn("removed_by", "text")
    .execute();
  await sql`create unique index review_numbers_active on review_numbers (application_id, phone)
    where removed_at is null`.execute(db);
}
