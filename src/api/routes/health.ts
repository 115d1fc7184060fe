/**
 * GET /healthz (the process answers; `draining` once it is shutting down; it stays up while the database is away,
 * so a supervisor does not restart a node that would only meet the same outage) and GET /readyz (it can reach its
 * database within 2 s and is not shutting down: 503 SHUTTING_DOWN from the first moment of a graceful shutdown).
 */
import { z } from "zod";
import { sendError } from "../errors.js";
import type { RouteRegistration } from "../route-kit.js";
import { ErrorView } from "../views.js";

/** A database that accepts connections but does not answer (stopped, overloaded) fails readiness too. */
const PING_TIMEOUT_MS = 2000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${ms} ms`), { code: "ETIMEDOUT" })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export const registerHealth: RouteRegistration = (app, services) => {
  app.get(
    "/healthz",
    { schema: { tags: ["operations"], response: { 200: z.object({ status: z.enum(["ok", "draining"]) }) } } },
    // Alive while it drains: a supervisor must let the shutdown finish rather than restart it.
    async () => ({ status: services.draining ? ("draining" as const) : ("ok" as const) }),
  );
  app.get(
    "/readyz",
    {
      schema: {
        tags: ["operations"],
        response: { 200: z.object({ status: z.literal("ready") }), 503: ErrorView },
      },
    },
    async (_request, reply) => {
      if (services.draining) return sendError(reply, { code: "SHUTTING_DOWN" });
      try {
        await withTimeout(services.store.ping(), PING_TIMEOUT_MS);
        return { status: "ready" as const };
      } catch (error) {
        // A balancer asks every second or two: an outage is logged once, by its watcher.
        if (!services.outages.store.note(error, "background")) reply.log.warn({ err: error }, "readiness check failed");
        return sendError(reply, { code: "NOT_READY", message: "The database is unreachable." });
      }
    },
  );
};
