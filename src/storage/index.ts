/** Picks the store for a DATABASE_URL. `sqlite:<path>` (default) or `sqlite::memory:`. */
import type { Store } from "../core/ports.js";
import { openSqliteStore } from "./sqlite.js";

export function openStore(databaseUrl: string): Store {
  if (databaseUrl.startsWith("sqlite:")) return openSqliteStore(databaseUrl.slice("sqlite:".length));
  throw new Error(`DATABASE_URL: unsupported scheme in "${databaseUrl.replace(/\/\/[^@]*@/, "//***@")}"`);
}
