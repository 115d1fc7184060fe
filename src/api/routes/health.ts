/**
 * GET /healthz (the process answers; `draining` once it is shutting down) and GET /readyz (it can reach its
 * database and is not shutting down: 503 SHUTTING_DOWN from the first moment of a graceful shutdown).
 */
import { z } from "zod";
import { sendError } from "../errors.js";
import type { RouteRegistration } from "../route-kit.js";
import { ErrorView } from "../views.js";

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
        await services.store.ping();
        return { status: "ready" as const };
      } catch (error) {
        reply.log.warn({ err: error }, "readiness check failed");
        return sendError(reply, { code: "NOT_READY", message: "The database is unreachable." });
      }
    },
  );
};
