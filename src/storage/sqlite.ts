/**
 * Opening the default store. A file database gets two threads beside the main one: the writer
 * (sqlite-writer.ts), which runs every write of the hot path on a connection of its own, and the WAL checkpointer
 * (sqlite-checkpointer.ts), so the server's commits do not pay for checkpoints either. A private `:memory:` database
 * cannot be opened by a second connection: its writes run on the main connection, through the same executor.
 */
import { BACKSTOP_AUTOCHECKPOINT_PAGES, startCheckpointer } from "./sqlite-checkpointer.js";
import { openDatabase } from "./sqlite-open.js";
import { SqliteStore } from "./sqlite-store.js";

/** The default store. @param file a path, or `:memory:` for a private in-memory database (tests) */
export function openSqliteStore(file: string): SqliteStore {
  const database = openDatabase(file);
  if (file === ":memory:") return new SqliteStore(database, { writer: "inline" });
  database.pragma(`wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT_PAGES}`);
  const checkpointer = startCheckpointer(file, (message) =>
    console.error(`flashverify: WAL checkpoint failed: ${message}`),
  );
  return new SqliteStore(database, { writer: { file }, onClose: () => checkpointer.stop() });
}
