/**
 * One outbound JSON POST (a webhook or a decision request) through the SSRF guard: the host is resolved and
 * checked before every request, the socket is pinned to that address, the connected peer is checked again,
 * redirects are never followed, and the whole exchange has a deadline.
 *
 * Connections are kept alive between requests, one pool per (scheme, host, port, pinned address): a connection is
 * reused only for the address its host resolved to and was checked for this time, so a changed DNS answer opens a
 * new connection to the new (checked) address and never reuses one to the old. Opening a connection per POST
 * capped delivery at a few hundred a second; a receiver's connection is now opened once.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import { urlToHttpOptions } from "node:url";
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
}

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

  const pinnedAddress = pinned;
  const send = target.url.protocol === "https:" ? httpsRequest : httpRequest;
  const headersSent = {
    ...headers,
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    "user-agent": "flashverify-webhooks/1",
  };
  const attempt = (reuse: boolean) =>
    new Promise<PostOutcome | "stale connection">((resolve) => {
      let settled = false;
      let timedOut = false;
      const finish = (outcome: PostOutcome | "stale connection") => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      const req = send({
        ...target.options,
        method: "POST",
        // The pool's sockets connect to the checked address whatever DNS says now; TLS still verifies the name.
        ...(reuse
          ? { agent: agentFor(target.url, pinnedAddress) }
          : { agent: false, lookup: pinnedLookup(pinnedAddress) }),
        headers: headersSent,
      });
      const timer = setTimeout(
        () => {
          timedOut = true;
          req.destroy();
          finish(fail(`timeout after ${options.timeoutMs} ms`));
        },
        Math.max(0, deadlineAt - performance.now()),
      );
      req.on("response", (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const limit = options.maxBodyBytes ?? 4096;
        res.on("data", (chunk: Buffer) => {
          if (size < limit) chunks.push(chunk.subarray(0, limit - size));
          size += chunk.length;
        });
        res.on("error", (error) => finish(fail(error.message)));
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          const header = res.headers["retry-after"];
          finish({
            statusCode: status,
            retryAfter: Array.isArray(header) ? header[0] : header,
            body: Buffer.concat(chunks).toString("utf8"),
            latencyMs: elapsed(),
            error: status >= 300 && status < 400 ? "redirect refused" : null,
          });
        });
      });
      req.on("socket", (socket) => {
        // A reused socket was checked when it connected; a new one is checked once it has.
        if (req.reusedSocket) return;
        socket.once("connect", () => {
          // Belt and braces: the address actually connected to must be allowed too.
          const remote = socket.remoteAddress ?? "";
          const kind = classifyAddress(remote);
          if (kind !== "public" && !options.allowed.has(kind)) {
            req.destroy(new AddressRefused(target.url.hostname, remote, kind));
          }
        });
      });
      req.on("error", (error: NodeJS.ErrnoException) => {
        if (timedOut) finish(fail(`timeout after ${options.timeoutMs} ms`));
        // The receiver closed an idle kept-alive connection as this request went out on it: nothing was answered,
        // and it goes again on a connection of its own.
        else if (req.reusedSocket && (error.code === "ECONNRESET" || error.code === "EPIPE")) {
          finish("stale connection");
        } else finish(fail(error.message));
      });
      req.end(body);
    });
  const first = await attempt(true);
  if (first !== "stale connection") return first;
  const second = await attempt(false);
  return second === "stale connection" ? fail("connection reset") : second;
}

/** A URL as sent to: parsed, and as request options, once per URL rather than once per request. */
interface Target {
  url: URL;
  options: ReturnType<typeof urlToHttpOptions>;
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
        ? { url: parsed, options: urlToHttpOptions(parsed) }
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
const pools = new Map<string, HttpAgent>();

function pinnedLookup(pinned: { address: string; family: 4 | 6 }): LookupFunction {
  return (_hostname, lookupOptions, callback) => {
    if (lookupOptions.all) callback(null, [pinned]);
    else callback(null, pinned.address, pinned.family);
  };
}

/** The pool of kept-alive connections to `target`'s origin at `pinned`, and only there. */
function agentFor(target: URL, pinned: { address: string; family: 4 | 6 }): HttpAgent {
  const key = `${target.protocol}//${target.host} ${pinned.address}`;
  const known = pools.get(key);
  if (known) {
    pools.delete(key);
    pools.set(key, known);
    return known;
  }
  // An agent's own options override a request's when it opens a socket: every socket of this pool goes to `pinned`.
  const settings = { keepAlive: true, timeout: IDLE_MS, lookup: pinnedLookup(pinned) };
  const agent = target.protocol === "https:" ? new HttpsAgent(settings) : new HttpAgent(settings);
  pools.set(key, agent);
  for (const [oldKey, old] of pools) {
    if (pools.size <= MAX_POOLS) break;
    if (Object.keys(old.sockets).length > 0 || Object.keys(old.requests).length > 0) continue;
    old.destroy();
    pools.delete(oldKey);
  }
  return agent;
}
