/**
 * One outbound JSON POST (a webhook or a decision request) through the SSRF guard: the host is resolved and
 * checked before every request, the socket is pinned to that address, the connected peer is checked again,
 * redirects are never followed, and the whole exchange has a deadline.
 *
 * Connections are kept alive between requests, one pool per (scheme, host, port, pinned address): a connection is
 * reused only for the address its host resolved to and was checked for this time, so a changed DNS answer opens a
 * new connection to the new (checked) address and never reuses one to the old. Opening a connection per POST
 * capped delivery at a few hundred a second; a receiver's connection is now opened once. A pool opens at most
 * `maxConnections` to one receiver (requests beyond wait their turn, within their deadline), so a busy outbox
 * does not open hundreds of connections to one endpoint.
 *
 * The exchange is undici's, driven through its handler interface (no streams, no promise per chunk): it costs
 * about half the CPU of node:http's client per request, which was about half of a busy webhook worker's CPU.
 */
import type { LookupFunction, Socket } from "node:net";
import { buildConnector, type Dispatcher, Pool } from "undici";
import { type AddressClass, AddressRefused, classifyAddress, resolveAllowed } from "./address-guard.js";

export interface PostOutcome {
  /** null when no response arrived (refused, unreachable, timeout) */
  statusCode: number | null;
  /** the response's Retry-After header, if any */
  retryAfter: string | undefined;
  /** at most `maxBodyBytes` of the response body */
  body: string;
  latencyMs: number;
  /** why it failed before or instead of a response status; null when a response arrived */
  error: string | null;
}

export interface PostOptions {
  timeoutMs: number;
  allowed: ReadonlySet<AddressClass>;
  /** response bytes kept; default 4 KiB */
  maxBodyBytes?: number;
  /** connections open at once to one receiver (origin and address); default 64 */
  maxConnections?: number;
}

/** The default cap of connections to one receiver: Little's law gives 64 / 25 ms = 2,560 requests/s per receiver. */
export const MAX_CONNECTIONS = 64;

export async function postJson(
  url: string,
  body: string,
  headers: Record<string, string>,
  options: PostOptions,
): Promise<PostOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const fail = (error: string): PostOutcome => ({
    statusCode: null,
    retryAfter: undefined,
    body: "",
    latencyMs: elapsed(),
    error,
  });
  const target = parsedUrl(url);
  if (typeof target === "string") return fail(target);

  // One timer for the whole exchange (an AbortSignal per request cost several times as much CPU in its listeners).
  const deadlineAt = performance.now() + options.timeoutMs;
  let pinned: { address: string; family: 4 | 6 };
  try {
    pinned = await resolveAllowed(target.url.hostname, options.allowed);
  } catch (error) {
    return fail(error instanceof AddressRefused ? error.message : `DNS: ${(error as Error).message}`);
  }
  if (performance.now() >= deadlineAt) return fail(`timeout after ${options.timeoutMs} ms`);

  const pool = poolFor(target.url, pinned, options.allowed, options.maxConnections ?? MAX_CONNECTIONS);
  const request: Dispatcher.DispatchOptions = {
    path: target.path,
    method: "POST",
    headers: { ...headers, "content-type": "application/json", "user-agent": "flashverify-webhooks/1" },
    body,
  };
  const limit = options.maxBodyBytes ?? 4096;
  const attempt = () =>
    new Promise<PostOutcome | "stale connection">((resolve) => {
      let settled = false;
      let abort: ((error?: Error) => void) | undefined;
      let statusCode = 0;
      let retryAfter: string | undefined;
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = (outcome: PostOutcome | "stale connection") => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      const timer = setTimeout(
        () => {
          finish(fail(`timeout after ${options.timeoutMs} ms`));
          // Still queued for a connection, it is aborted as soon as it gets one, before anything is written.
          abort?.(new Error("deadline"));
        },
        Math.max(0, deadlineAt - performance.now()),
      );
      pool.dispatch(request, {
        onConnect(abortRequest) {
          abort = abortRequest;
          if (settled) abortRequest(new Error("deadline"));
        },
        onHeaders(status, rawHeaders) {
          // 1xx are interim: the final status follows.
          if (status < 200) return true;
          statusCode = status;
          for (let i = 0; i < rawHeaders.length; i += 2) {
            const name = rawHeaders[i] as Buffer;
            if (name.length === 11 && name.toString("latin1").toLowerCase() === "retry-after") {
              retryAfter = (rawHeaders[i + 1] as Buffer).toString("latin1");
              break;
            }
          }
          return true;
        },
        onData(chunk) {
          if (size < limit) chunks.push(chunk.subarray(0, limit - size));
          size += chunk.length;
          return true;
        },
        onComplete() {
          clearTimeout(timer);
          const outcome: PostOutcome = {
            statusCode,
            retryAfter,
            body: chunks.length === 1 ? (chunks[0] as Buffer).toString("utf8") : Buffer.concat(chunks).toString("utf8"),
            latencyMs: elapsed(),
            error: statusCode >= 300 && statusCode < 400 ? "redirect refused" : null,
          };
          // Answered after the turn in which undici frees the connection (it waits one for a server that closes
          // it anyway): a request sent next at once reuses it rather than open another.
          queueMicrotask(() => setImmediate(() => finish(outcome)));
        },
        onError(error: Error & { code?: string; socket?: { bytesRead?: number } }) {
          // The receiver closed a kept-alive connection as this request went out on it (it had answered before on
          // it, or reset it): nothing was answered, and it goes again, once, on another connection.
          const closedUnanswered =
            statusCode === 0 &&
            ((error.code === "UND_ERR_SOCKET" && (error.socket?.bytesRead ?? 0) > 0) ||
              error.code === "ECONNRESET" ||
              error.code === "EPIPE");
          finish(closedUnanswered ? "stale connection" : fail(error.message));
        },
      });
    });
  const first = await attempt();
  if (first !== "stale connection") return first;
  if (performance.now() >= deadlineAt) return fail(`timeout after ${options.timeoutMs} ms`);
  const second = await attempt();
  return second === "stale connection" ? fail("connection reset") : second;
}

/** A URL as sent to: parsed, and its request path, once per URL rather than once per request. */
interface Target {
  url: URL;
  path: string;
}
const targets = new Map<string, Target | string>();
const TARGETS_MAX = 1024;

/** The URL parsed, or why it cannot be sent to. */
function parsedUrl(url: string): Target | string {
  const known = targets.get(url);
  if (known !== undefined) return known;
  let target: Target | string;
  try {
    const parsed = new URL(url);
    target =
      parsed.protocol === "https:" || parsed.protocol === "http:"
        ? { url: parsed, path: `${parsed.pathname}${parsed.search}` }
        : "only http and https URLs are sent";
  } catch {
    target = "invalid URL";
  }
  if (targets.size >= TARGETS_MAX) targets.clear();
  targets.set(url, target);
  return target;
}

/** Idle kept-alive connections close after this, before the common server-side keep-alive timeouts (Node: 5 s). */
const IDLE_MS = 4000;
/** Pools kept; past this, the least recently used idle ones are closed. */
const MAX_POOLS = 256;
const pools = new Map<string, Pool>();

function pinnedLookup(pinned: { address: string; family: 4 | 6 }): LookupFunction {
  return (_hostname, lookupOptions, callback) => {
    if (lookupOptions.all) callback(null, [pinned]);
    else callback(null, pinned.address, pinned.family);
  };
}

/** The allowed classes as text, once per set (the settings' set is the same object for every request). */
const allowedKeys = new WeakMap<ReadonlySet<AddressClass>, string>();
function allowedKey(allowed: ReadonlySet<AddressClass>): string {
  let key = allowedKeys.get(allowed);
  if (key === undefined) {
    key = [...allowed].sort().join(",");
    allowedKeys.set(allowed, key);
  }
  return key;
}

/** The pool of kept-alive connections to `target`'s origin at `pinned`, and only there. */
function poolFor(
  target: URL,
  pinned: { address: string; family: 4 | 6 },
  allowed: ReadonlySet<AddressClass>,
  maxConnections: number,
): Pool {
  const key = `${target.origin} ${pinned.address} ${maxConnections} ${allowedKey(allowed)}`;
  const known = pools.get(key);
  if (known) {
    pools.delete(key);
    pools.set(key, known);
    return known;
  }
  // Every socket of this pool goes to `pinned` whatever DNS says now (TLS still verifies the name), and the
  // address actually connected to must be allowed too (belt and braces).
  const connect = buildConnector({ lookup: pinnedLookup(pinned) });
  const pool = new Pool(target.origin, {
    connections: maxConnections,
    keepAliveTimeout: IDLE_MS,
    keepAliveMaxTimeout: IDLE_MS,
    connect: (connectOptions, callback) =>
      connect(connectOptions, (error, socket) => {
        if (error || !socket) return callback(error, null);
        const remote = (socket as Socket).remoteAddress ?? "";
        const kind = classifyAddress(remote);
        if (kind !== "public" && !allowed.has(kind)) {
          socket.destroy();
          return callback(new AddressRefused(target.hostname, remote, kind), null);
        }
        callback(null, socket);
      }),
  });
  pools.set(key, pool);
  for (const [oldKey, old] of pools) {
    if (pools.size <= MAX_POOLS) break;
    if (old.stats.size > 0) continue;
    void old.close();
    pools.delete(oldKey);
  }
  return pool;
}
