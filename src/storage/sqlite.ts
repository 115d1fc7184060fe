/**
 * SQLite through better-sqlite3, the default store. WAL lets readers (the CLI, a second process) work beside the
 * server; `synchronous=NORMAL` in WAL mode is durable across process crashes and loses at most the last
 * transactions on power loss, the usual trade for a server.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { Kysely, type SqliteDatabase as KyselySqliteDatabase, SqliteDialect, type SqliteStatement } from "kysely";
import { KyselyStore } from "./kysely-store.js";
import type { Database } from "./schema.js";

/** @param file a path, or `:memory:` for a private in-memory database (tests) */
export function openSqliteStore(file: string): KyselyStore {
  if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
  const database = new SqliteDatabase(file);
  database.pragma("journal_mode = WAL");
  database.pragma("synchronous = NORMAL");
  database.pragma("busy_timeout = 5000");
  database.pragma("foreign_keys = ON");
  return new KyselyStore(
    new Kysely<Database>({ dialect: new SqliteDialect({ database: cachingStatements(database) }) }),
  );
}

/** distinct statements kept prepared; the store issues a few dozen shapes of SQL, so this is never reached in use */
const STATEMENT_CACHE_LIMIT = 512;

/**
 * Kysely prepares every query afresh; preparing costs more than running the small statements of the hot path, so
 * prepared statements are kept by SQL text. Safe because better-sqlite3 runs each statement to completion
 * synchronously.
 */
function cachingStatements(database: SqliteDatabase.Database): KyselySqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  return {
    close: () => database.close(),
    prepare(sql: string): SqliteStatement {
      let statement = statements.get(sql);
      if (!statement) {
        if (statements.size >= STATEMENT_CACHE_LIMIT) statements.clear();
        statement = database.prepare(sql);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}
