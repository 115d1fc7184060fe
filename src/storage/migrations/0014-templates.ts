/**
 * Message templates per application, channel and language (the content is JSON: each channel has its own fields),
 * and each application's default language. Who saved a template and when is kept with it.
 */
import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("message_templates")
    .addColumn("application_id", "text", (c) => c.notNull().references("applications.id"))
    .addColumn("channel", "text", (c) => c.notNull())
    .addColumn("language", "text", (c) => c.notNull())
    .addColumn("content", "text", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addColumn("updated_by", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("message_templates_pk", ["application_id", "channel", "language"])
    .execute();
  await db.schema
    .createTable("application_languages")
    .addColumn("application_id", "text", (c) => c.primaryKey().references("applications.id"))
    .addColumn("default_language", "text", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
}
