/**
 * Opening PostgreSQL (`DATABASE_URL=postgres://...`) through node-postgres: the store of postgres-store.ts, with work
 * claimed by `FOR UPDATE SKIP LOCKED`, so several server processes can share one database.
 */
import { Kysely } from "kysely";
import pg from "pg";
import { OwnSchemaPostgresDialect } from "./postgres-introspector.js";
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
  /**
   * told when a pooled connection fails, idle or checked out (the pool drops it and opens another when needed; a query
   * on it fails with the error); default stderr
   */
  onConnectionError?: (error: Error) => void;
  /** how long a query waits for a connection before it fails; default 5,000 ms */
  connectTimeoutMs?: number;
}

export function openPostgresStore(url: string, options: PostgresOptions = {}): PostgresStore {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    // Without a bound a query waits for a connection for as long as the database is away, and so does its request.
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    // A database that vanished without closing its sockets (a host gone, a cut network) is noticed by the kernel.
    keepAlive: true,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  // A connection that fails (a server restart, a cut network) emits 'error' on its client, and an 'error' event
  // nobody listens to ends the process. node-postgres re-emits an idle connection's failure on the pool, but a
  // connection checked out at that moment (a query or a transaction under way) emits it on the client alone, so
  // every client gets a listener as it connects. The query under way fails with the same error, and the next one
  // gets a new connection.
  const lost =
    options.onConnectionError ??
    ((error: Error) => console.error("flashverify: PostgreSQL connection lost:", error.message));
  pool.on("connect", (client) => {
    client.on("error", lost);
  });
  // Reported once, by the client's own listener above.
  pool.on("error", () => undefined);
  const max = options.maxConnections ?? 10;
  return new PostgresStore(new Kysely<Database>({ dialect: new OwnSchemaPostgresDialect({ pool }) }), pool, {
    connections: () => ({ max, total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
  });
}
