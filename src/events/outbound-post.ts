/**
 * One outbound JSON POST (a webhook or a decision request) through the SSRF guard: the host is resolved and
 * checked once, the socket is pinned to that address by a custom `lookup`, the connected peer is checked again,
 * redirects are never followed, and the whole exchange has a deadline.
 */
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
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
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return fail("invalid URL");
  }
  if (target.protocol !== "https:" && target.protocol !== "http:") return fail("only http and https URLs are sent");

  const deadline = AbortSignal.timeout(options.timeoutMs);
  let pinned: { address: string; family: 4 | 6 };
  try {
    pinned = await resolveAllowed(target.hostname, options.allowed);
  } catch (error) {
    return fail(error instanceof AddressRefused ? error.message : `DNS: ${(error as Error).message}`);
  }
  if (deadline.aborted) return fail(`timeout after ${options.timeoutMs} ms`);

  // The socket connects to the checked address whatever DNS says now; TLS still verifies the original name.
  const lookup: LookupFunction = (_hostname, lookupOptions, callback) => {
    if (lookupOptions.all) callback(null, [pinned]);
    else callback(null, pinned.address, pinned.family);
  };
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise<PostOutcome>((resolve) => {
    let settled = false;
    const finish = (outcome: PostOutcome) => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    const req = send(
      target,
      {
        method: "POST",
        lookup,
        signal: deadline,
        agent: false,
        headers: {
          ...headers,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          "user-agent": "flashverify-webhooks/1",
        },
      },
      (res: IncomingMessage) => {
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
      },
    );
    req.on("socket", (socket) => {
      socket.once("connect", () => {
        // Belt and braces: the address actually connected to must be allowed too.
        const remote = socket.remoteAddress ?? "";
        const kind = classifyAddress(remote);
        if (kind !== "public" && !options.allowed.has(kind)) {
          req.destroy(new AddressRefused(target.hostname, remote, kind));
        }
      });
    });
    req.on("error", (error) => {
      if (deadline.aborted) finish(fail(`timeout after ${options.timeoutMs} ms`));
      else finish(fail(error.message));
    });
    req.end(body);
  });
}
