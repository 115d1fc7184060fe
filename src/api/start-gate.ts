/**
 * The last look at a start before it goes to the core: a start whose client has gone (it gave up; the balancer
 * closed the connection) or that waited past START_QUEUE_DEADLINE_MS before its turn is dropped before anything
 * is sent, and counted (`flashverify_starts_dropped_total`). After a stall (a stopped process, a long pause) a
 * node otherwise works through requests whose clients timed out long ago, and each would place a real, charged
 * call; a client retrying without an Idempotency-Key would call its user twice.
 *
 * How long a start waited: since the balancer's `X-Request-Start` (`t=` and epoch milliseconds or microseconds, the
 * HAProxy configuration of docs/deploy.md sets it), or, without one, the stall of the event loop it may have waited
 * through unseen before this process read it. A client can only make its own start refused with the header.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { StartOptions } from "../core/verification-service.js";
import type { Services } from "../services.js";
import { HttpError } from "./errors.js";

/** Throws the answer for a start that must not go ahead; returns when it may. */
export function admitStart(services: Services, request: FastifyRequest, reply: FastifyReply): void {
  if (services.lag.overloaded) throw new HttpError({ code: "OVERLOADED", retryAfterSeconds: 1 });
  // The socket closed: nobody is waiting for the answer, and whatever it would start is unwanted. The request
  // stream itself reads as destroyed as soon as its body has been read, client or not, so it cannot tell.
  if (request.raw.socket?.destroyed || reply.raw.destroyed) {
    services.metrics.startDropped("client_gone");
    throw new HttpError({ code: "OVERLOADED", message: "The client closed the connection; nothing was sent." });
  }
  const deadline = services.config.START_QUEUE_DEADLINE_MS;
  if (deadline === 0) return;
  const waited = waitedMs(services, request, reply);
  if (waited > deadline) {
    services.metrics.startDropped("queue_deadline");
    throw new HttpError({
      code: "OVERLOADED",
      message: `The request waited ${Math.round(waited)} ms before its turn, past ${deadline} ms; nothing was sent.`,
      retryAfterSeconds: 1,
    });
  }
}

/**
 * The wait this process cannot see (a stall before it read the request) or the balancer saw. Its own time with the
 * request is left out: on a machine short of CPU it grows for every request alike, and refusing them all would be
 * load shedding, which OVERLOAD_MAX_LAG_MS decides.
 */
function waitedMs(services: Services, request: FastifyRequest, reply: FastifyReply): number {
  const seenAt = performance.now() - reply.elapsedTime;
  const unseen = services.lag.stalledBefore(seenAt);
  const header = request.headers["x-request-start"];
  const start = typeof header === "string" ? requestStartMs(header) : undefined;
  return start === undefined ? unseen : Math.max(unseen, Date.now() - start);
}

/** `t=1733580000123` (ms), `t=1733580000123456` (us) or the bare number; undefined when unreadable. */
export function requestStartMs(header: string): number | undefined {
  const match = /^(?:t=)?(\d{10,19})(?:\.\d+)?$/.exec(header.trim());
  if (!match) return undefined;
  const value = Number(match[1]);
  // Seconds, milliseconds or microseconds since the epoch, told apart by their size.
  if (value < 1e11) return value * 1000;
  if (value < 1e14) return value;
  return value / 1000;
}

/**
 * The client as the request shows it, for every route that starts verifications (POST /v1/verifications and the
 * compatibility layers alike): its address as `client.ip` and its country from the trusted proxy's header, so the
 * per-IP limits and the risk score see every start the same way, whichever API it came through.
 */
export function startOptions(
  services: Pick<Services, "config">,
  request: FastifyRequest,
  idempotencyKey?: string | undefined,
): StartOptions {
  const countryHeader = services.config.FRAUD_IP_COUNTRY_HEADER;
  const ipCountry = countryHeader ? request.headers[countryHeader] : undefined;
  return {
    idempotencyKey,
    requestIp: request.ip,
    ipCountry: typeof ipCountry === "string" && /^[A-Z]{2}$/.test(ipCountry) ? ipCountry : undefined,
  };
}
