/** GET /healthz (the process answers) and GET /readyz (it can reach its database). */
import { z } from "zod";
import { sendError } from "../errors.js";
import type { RouteRegistration } from "../route-kit.js";
import { ErrorView } from "../views.js";

export const registerHealth: RouteRegistration = (app, services) => {
  app.get(
    "/healthz",
    { schema: { tags: ["operations"], response: { 200: z.object({ status: z.literal("ok") }) } } },
    async () => ({ status: "ok" as const }),
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
