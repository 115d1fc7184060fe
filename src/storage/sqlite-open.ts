/**
 * Opening a SQLite connection through better-sqlite3, the same way for the server's main connection and its writer
 * thread's. WAL lets readers (the main connection, the CLI, a second process) work beside the writer;
 * `synchronous=NORMAL` in WAL mode is durable across process crashes and loses at most the last transactions on
 * power loss, the usual trade for a server.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import SqliteDatabase from "better-sqlite3";

export function openDatabase(file: string): SqliteDatabase.Database {
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
