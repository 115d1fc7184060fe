/**
 * Which failures mean "the database (or Redis) cannot be reached right now", as opposed to a fault of the statement
 * or the request: the connection was refused, reset or timed out, the server is shutting down or starting up
 * (PostgreSQL's classes 08 and 57P, too many connections), or the client gave the connection up. Requests that meet
 * one are answered 503 with Retry-After and background work backs off; anything else stays an internal error.
 */

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

// PostgreSQL: admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections, and class 08 below.
const POSTGRES_CODES = new Set(["57P01", "57P02", "57P03", "53300"]);

// node-postgres reports a lost connection without a code.
const POSTGRES_MESSAGES = [
  "Connection terminated",
  "timeout exceeded when trying to connect",
  "is not queryable",
  "Query read timeout",
];

// ioredis, with its offline queue off (storage/redis.ts): commands fail at once while the connection is down.
const REDIS_MESSAGES = [
  "Stream isn't writeable",
  "Connection is closed",
  "Reached the max retries per request limit",
  "Command timed out",
];

export function isStoreUnreachable(error: unknown): boolean {
  return matches(error, (e) => {
    const code = typeof e.code === "string" ? e.code : "";
    if (NETWORK_CODES.has(code) || POSTGRES_CODES.has(code) || /^08...$/.test(code)) return true;
    if (code === "SQLITE_BUSY" || code.startsWith("SQLITE_IOERR")) return true;
    return POSTGRES_MESSAGES.some((m) => e.message.includes(m));
  });
}

export function isRedisUnreachable(error: unknown): boolean {
  return matches(error, (e) => {
    const code = typeof e.code === "string" ? e.code : "";
    if (NETWORK_CODES.has(code)) return true;
    return REDIS_MESSAGES.some((m) => e.message.includes(m));
  });
}

/** Tests the error, then what it wraps (`cause`, an AggregateError's `errors`: a connect to several addresses). */
function matches(error: unknown, test: (e: Error & { code?: unknown }) => boolean, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 3) return false;
  if (test(error)) return true;
  if (error.cause !== undefined && matches(error.cause, test, depth + 1)) return true;
  return error instanceof AggregateError && error.errors.some((e) => matches(e, test, depth + 1));
}
