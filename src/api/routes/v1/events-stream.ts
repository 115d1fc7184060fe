/**
 * GET /v1/events/stream: every event of the application as it commits, as Server-Sent Events (the dashboard's live
 * feed). It starts after the newest event, or after `Last-Event-ID` (or `?after=`) when resuming, and reads from
 * the durable log after its cursor whenever the event hub says something committed, so a notification that is lost
 * or coalesced costs latency, never an event. API keys only: the stream carries every verification's events.
 */
import { z } from "zod";
import { publicEvent } from "../../../events/catalogue.js";
import { applicationOf, authenticate } from "../../auth.js";
import { OpenStreams } from "../../open-streams.js";
import { type RouteRegistration, unwrap } from "../../route-kit.js";
import { commonErrors, ErrorView } from "../../views.js";

const PAGE = 500;
const Query = z
  .object({ after: z.string().min(1).max(64).optional().describe("an event id: resume after it") })
  .strict();
const Headers = z.object({ "last-event-id": z.string().max(64).optional().describe("resume after this event") });

export const registerStreamEvents: RouteRegistration = (app, services) => {
  // A closing server ends its streams; their clients resume with Last-Event-ID.
  const streams = new OpenStreams(app);
  app.get(
    "/v1/events/stream",
    {
      onRequest: authenticate(services, "application"),
      schema: {
        summary: "Stream the application's events (Server-Sent Events)",
        description: "Each event as it commits, in the order written; honours Last-Event-ID. API keys only.",
        tags: ["events"],
        security: [{ bearer: [] }],
        querystring: Query,
        headers: Headers,
        response: { ...commonErrors, 403: ErrorView },
      },
    },
    async (request, reply) => {
      const applicationId = applicationOf(request);
      const { eventLog, events } = services;
      let pumping: Promise<void> | undefined;
      let again = false;
      let ready = false;
      let closed = false;
      let cursor = 0;
      const pump = () => {
        if (closed) return;
        if (pumping || !ready) {
          again = true;
          return;
        }
        pumping = (async () => {
          do {
            again = false;
            for (;;) {
              const batch = await eventLog.applicationAfter(applicationId, cursor, PAGE);
              for (const event of batch) {
                if (closed) return;
                const e = publicEvent(event);
                raw.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
                cursor = event.seq;
              }
              if (batch.length < PAGE) break;
            }
          } while (again && !closed);
        })()
          .catch((error: unknown) => {
            request.log.error({ err: error }, "SSE stream failed");
            close();
          })
          .finally(() => {
            pumping = undefined;
            if (again) pump();
          });
      };
      // Listen before reading the cursor: a commit in between then pumps, and the pump reads from the log.
      const unsubscribe = events.onAny(pump);
      const after = request.headers["last-event-id"] ?? request.query.after;
      let start: Awaited<ReturnType<typeof eventLog.applicationCursor>>;
      try {
        start = await eventLog.applicationCursor(applicationId, after);
      } catch (error) {
        unsubscribe();
        throw error;
      }
      if (!start.ok) unsubscribe();
      cursor = unwrap(start);

      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        connection: "keep-alive",
        "x-accel-buffering": "no",
        "x-request-id": String(request.id),
      });
      raw.write("retry: 2000\n\n");
      const heartbeat = setInterval(() => raw.write(": heartbeat\n\n"), services.config.SSE_HEARTBEAT_MS);
      function close() {
        if (closed) return;
        closed = true;
        forget();
        clearInterval(heartbeat);
        unsubscribe();
        raw.end();
      }
      const forget = streams.add(close);
      raw.on("close", close);
      ready = true;
      pump();
    },
  );
};
