/**
 * PostgreSQL only: the creates and saves a server process has ready in one turn of its event loop, as one statement
 * and one commit. Each write keeps its own outcome (a taken CLI or a version conflict refuses that write alone); an
 * error fails the whole statement, and the store then repeats each write on its own.
 */
import { type Kysely, sql } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on the evolving schema type
export async function up(db: Kysely<any>): Promise<void> {
  if (!db.getExecutor().adapter.constructor.name.startsWith("Postgres")) return;
  // writes: [{ "create": <payload> } | { "save": <payload> }], payloads as migration 0007's functions take them.
  // Returns their outcomes in order: the create's text, the save's boolean.
  await sql`create or replace function flashverify_write_batch(writes jsonb) returns jsonb
    language plpgsql as $$
    declare
      w jsonb;
      outcomes jsonb := '[]';
    begin
      for w in select value from jsonb_array_elements(writes) loop
        if w ? 'create' then
          outcomes := outcomes || jsonb_build_array(flashverify_create_verification(w->'create'));
        else
          outcomes := outcomes || jsonb_build_array(flashverify_save_verification(w->'save'));
        end if;
      end loop;
      return outcomes;
    end
    $$`.execute(db);
}
