/**
 * Sinch's two authentication schemes, checked against the Sinch credential pairs of our applications:
 * - `Authorization: Basic base64(<application key>:<application secret>)`;
 * - `Authorization: Application <application key>:<signature>` with `x-timestamp`, the signature covering the verb,
 *   the body's MD5, the content type, the timestamp and the path (src/events/sinch-signature.ts).
 *
 * A signed request is accepted within REPLAY_WINDOW_MS of its timestamp, either way, and only once: its signature is
 * remembered for the window, so a captured request cannot be sent again (per server process: behind a load balancer
 * the window still bounds a replay to another node). Credentials are checked before the body is parsed or validated,
 * so a request without them learns nothing from validation errors.
 */
import type { FastifyRequest } from "fastify";
import { type SinchPair, secretEquals } from "../../../core/sinch-credentials.js";
import { sinchSignature } from "../../../events/sinch-signature.js";
import type { Services } from "../../../services.js";
import { HttpError } from "../../errors.js";

/** how far x-timestamp may be from the server's clock, either way (Sinch's own window) */
export const REPLAY_WINDOW_MS = 15 * 60_000;
const SEEN_LIMIT = 100_000;

export class SinchAuthenticator {
  /** signatures accepted within the window, with when they may be forgotten */
  private readonly seen = new Map<string, number>();

  constructor(private readonly services: Pick<Services, "sinchCredentials" | "clock">) {}

  /** The pair whose credentials the request carries; throws UNAUTHORIZED otherwise. */
  async authenticate(request: FastifyRequest, rawBody: string): Promise<SinchPair> {
    const header = request.headers.authorization;
    if (!header || header.length > 1024) throw unauthorized("Send Basic or Application (signed) credentials.");
    const space = header.indexOf(" ");
    const scheme = header.slice(0, space).toLowerCase();
    const value = header.slice(space + 1).trim();
    if (scheme === "basic") return this.basic(value);
    if (scheme === "application") return this.signed(request, value, rawBody);
    throw unauthorized("Send Basic or Application (signed) credentials.");
  }

  private async basic(value: string): Promise<SinchPair> {
    const decoded = Buffer.from(value, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon <= 0) throw unauthorized();
    const pair = await this.services.sinchCredentials.find(decoded.slice(0, colon));
    // Compared even for an unknown key, so timing does not tell keys that exist from others.
    const matches = secretEquals(decoded.slice(colon + 1), pair?.applicationSecret ?? "");
    if (!pair || !matches) throw unauthorized();
    return pair;
  }

  private async signed(request: FastifyRequest, value: string, rawBody: string): Promise<SinchPair> {
    const match = /^([^:\s]{1,128}):([A-Za-z0-9+/=]{1,128})$/.exec(value);
    const timestamp = request.headers["x-timestamp"];
    if (!match || typeof timestamp !== "string") throw unauthorized("A signed request needs x-timestamp.");
    const at = Date.parse(timestamp);
    const now = this.services.clock.now();
    if (!Number.isFinite(at) || Math.abs(now - at) > REPLAY_WINDOW_MS) {
      throw unauthorized("x-timestamp is missing, unreadable or more than 15 minutes from the server's clock.");
    }
    const [, applicationKey, signature] = match as unknown as [string, string, string];
    const pair = await this.services.sinchCredentials.find(applicationKey);
    const expected = sinchSignature(pair?.applicationSecret ?? "", {
      method: request.method,
      body: rawBody,
      contentType: request.headers["content-type"] ?? "",
      timestamp,
      path: request.url.split("?")[0] as string,
    });
    if (!pair || !secretEquals(signature, expected)) throw unauthorized();
    this.forgetExpired(now);
    if (this.seen.has(signature)) throw unauthorized("This signed request was already received (replay).");
    if (this.seen.size >= SEEN_LIMIT) this.seen.delete(this.seen.keys().next().value as string);
    this.seen.set(signature, at + REPLAY_WINDOW_MS);
    return pair;
  }

  private forgetExpired(now: number): void {
    // Insertion order is close to timestamp order: stop at the first entry still inside the window.
    for (const [signature, until] of this.seen) {
      if (until > now) break;
      this.seen.delete(signature);
    }
  }
}

function unauthorized(message?: string): HttpError {
  return new HttpError(message === undefined ? { code: "UNAUTHORIZED" } : { code: "UNAUTHORIZED", message });
}
