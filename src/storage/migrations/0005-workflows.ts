/**
 * Workflows: a verification records its steps, the step under way and when the next one starts, and an email
 * address for an email step. Attempts of message channels record what the provider said and every attempt its
 * list price. Message attempts hold no CLI: 0001 made the CLI columns NOT NULL, so they store '' there, which the
 * row mapping reads back as null.
 */
import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
export async function up(db: Kysely<any>): Promise<void> {
  // Verifications created before workflows were one flash-call step.
  await db.schema
    .alterTable("verifications")
    .addColumn("workflow", "text", (c) => c.notNull().defaultTo('[{"channel":"flashcall","timeoutMs":60000}]'))
    .execute();
  await db.schema
    .alterTable("verifications")
    .addColumn("step", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable("verifications").addColumn("step_deadline", "bigint").execute();
  await db.schema.alterTable("verifications").addColumn("email", "text").execute();
  await db.schema.alterTable("attempts").addColumn("detail", "text").execute();
  await db.schema.alterTable("attempts").addColumn("cost", "real").execute();
}
