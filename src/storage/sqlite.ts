/**
 * Opening SQLite through better-sqlite3. WAL lets readers (the CLI, a second process) work beside the server;
 * `synchronous=NORMAL` in WAL mode is durable across process crashes and loses at most the last transactions on
 * power loss, the usual trade for a server. A file database has its WAL checkpointed from a thread of its own
 * (sqlite-checkpointer.ts), so the server's commits do not pay for checkpoints.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { BACKSTOP_AUTOCHECKPOINT_PAGES, startCheckpointer } from "./sqlite-checkpointer.js";
import { SqliteStore } from "./sqlite-store.js";

function openDatabase(file: string): SqliteDatabase.Database {
  if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
  const database = new SqliteDatabase(file);
  database.pragma("journal_mode = WAL");
  database.pragma("synchronous = NORMAL");
  database.pragma("busy_timeout = 5000");
  database.pragma("foreign_keys = ON");
  // Each write of a group commit runs in a savepoint, and SQLite keeps a savepoint's undo pages in a statement
  // journal: a temporary file by default, written with a syscall per page (a tenth of the server's main thread at
  // 300 verifications/s). In memory it costs a copy; it only lives until the savepoint is released.
  database.pragma("temp_store = MEMORY");
  return database;
}

/** The default store. @param file a path, or `:memory:` for a private in-memory database (tests) */
export function openSqliteStore(file: string): SqliteStore {
  const database = openDatabase(file);
  if (file === ":memory:") return new SqliteStore(database);
  database.pragma(`wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT_PAGES}`);
  const checkpointer = startCheckpointer(file, (message) =>
    console.error(`flashverify: WAL checkpoint failed: ${message}`),
  );
  return new SqliteStore(database, () => checkpointer.stop());
}
