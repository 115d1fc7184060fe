/**
 * PostgreSQL only: migration 0007's flashverify_insert_events, same statement, in PL/pgSQL instead of SQL. A SQL
 * function holding a data-modifying statement cannot be inlined, and PostgreSQL parses and plans its body again at
 * every call (0.1-0.2 ms with an empty list of events, measured by calling it 2,000 times in a DO loop); PL/pgSQL
 * plans a statement once per connection and keeps the plan. Every create and save calls it.
 */
import { type Kysely, sql } from "kysely";
import { INSERT_EVENTS } from "./0007-postgres-writes.js";

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
export async function up(db: Kysely<any>): Promise<void> {
  if (!db.getExecutor().adapter.constructor.name.startsWith("Postgres")) return;
  await sql`create or replace function flashverify_insert_events(app_id text, new_events jsonb) returns void
    language plpgsql as $$
    begin
      ${sql.raw(INSERT_EVENTS)};
    end
    $$`.execute(db);
}
