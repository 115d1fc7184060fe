/**
 * Opening PostgreSQL (`DATABASE_URL=postgres://...`) through node-postgres: the store of postgres-store.ts, with work
 * claimed by `FOR UPDATE SKIP LOCKED`, so several server processes can share one database.
 */
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { PostgresStore } from "./postgres-store.js";
import type { Database } from "./schema.js";

// Times and sequence numbers are bigint columns: epoch milliseconds and counters fit a JavaScript number exactly,
// and the stores' row mapping expects numbers, not node-postgres's default strings.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export interface PostgresOptions {
  /** connections in the pool; default 10 */
  maxConnections?: number;
  /** the schema to use (tests give each store its own); default the connection's search_path */
  schema?: string;
  /** told when an idle pooled connection fails (the pool drops it and opens another when needed); default stderr */
  onIdleError?: (error: Error) => void;
}

export function openPostgresStore(url: string, options: PostgresOptions = {}): PostgresStore {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  // node-postgres re-emits an idle connection's failure (a server restart, a cut network) on the pool, and an
  // 'error' event nobody listens to ends the process. The next query simply gets a new connection.
  pool.on(
    "error",
    options.onIdleError ?? ((error) => console.error("flashverify: idle PostgreSQL connection lost:", error.message)),
  );
  const max = options.maxConnections ?? 10;
  return new PostgresStore(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), pool, {
    connections: () => ({ max, total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
  });
}
