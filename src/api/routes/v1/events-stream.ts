/**
 * GET /v1/events/stream: every event of the application as it commits, as Server-Sent Events (the dashboard's live
 * feed). It starts after the newest event, or after `Last-Event-ID` (or `?after=`) when resuming, and reads from
 * the durable log after its cursor whenever the event hub says something committed, so a notification that is lost
 * or coalesced costs latency, never an event. Only this application's commits wake it. API keys only: the stream
 * carries every verification's events. Past a stream cap: `429 TOO_MANY_STREAMS`.
 */
import { z } from "zod";
import { publicEvent } from "../../../events/catalogue.js";
import { applicationOf, authenticate } from "../../auth.js";
import { OpenStreams } from "../../open-streams.js";
import { type RouteRegistration, unwrap } from "../../route-kit.js";
import { SseStream, takeStreamPlace } from "../../sse-stream.js";
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
        response: { ...commonErrors, 403: ErrorView, 429: ErrorView },
      },
    },
    async (request, reply) => {
      const applicationId = applicationOf(request);
      const { eventLog, events } = services;
      let cursor = 0;
      const stream = new SseStream(request, async () => {
        for (;;) {
          const batch = await eventLog.applicationAfter(applicationId, cursor, PAGE);
          for (const event of batch) {
            if (stream.closed) return;
            stream.send(publicEvent(event));
            cursor = event.seq;
          }
          if (batch.length < PAGE) return;
        }
      });
      const release = takeStreamPlace(services.streamCaps, applicationId, null);
      // Listen before reading the cursor: a commit in between then wakes the stream, which reads from the log.
      const unsubscribeHub = events.subscribeApplication(applicationId, stream.wake);
      const unsubscribe = () => {
        unsubscribeHub();
        release();
      };
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
      stream.open(reply, streams, services.config.SSE_HEARTBEAT_MS, "retry: 2000\n\n", unsubscribe);
    },
  );
};
