/**
 * GET /v1/verifications/{id}/stream: live status as Server-Sent Events, for the backend or the app holding the
 * verification's client token. The stream opens with the current state (`event: state`), then sends each event
 * as it commits (`id:` is the event id, `event:` its type, `data:` the same JSON a webhook carries), a comment
 * line as heartbeat, and closes after the final event. A client that reconnects with `Last-Event-ID` gets every
 * event after that one from the durable log, so a dropped connection loses nothing. A server shutting down ends its
 * streams the same way.
 */
import { z } from "zod";
import { FINAL_EVENT_TYPES, publicEvent } from "../../../events/catalogue.js";
import { accessOf, authenticate } from "../../auth.js";
import { OpenStreams } from "../../open-streams.js";
import { type RouteRegistration, unwrap } from "../../route-kit.js";
import { clientEventViews, clientVerificationView, commonErrors, verificationView } from "../../views.js";

const Params = z.object({ id: z.string().min(1).max(64) });
const Headers = z.object({
  "last-event-id": z.string().max(64).optional().describe("resume after this event"),
});

export const registerStreamVerification: RouteRegistration = (app, services) => {
  const streams = new OpenStreams(app);
  app.get(
    "/v1/verifications/:id/stream",
    {
      onRequest: authenticate(services, "any"),
      schema: {
        summary: "Stream a verification's events (Server-Sent Events)",
        description: "Accepts the backend's API key or the verification's client_token. Honours Last-Event-ID.",
        tags: ["events"],
        security: [{ bearer: [] }],
        params: Params,
        headers: Headers,
        response: { ...commonErrors },
      },
    },
    async (request, reply) => {
      const access = accessOf(request);
      const { id } = request.params;
      const { eventLog, events } = services;

      // Listen before reading the cursor: a commit in between then pumps, and the pump reads from the log.
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
            for (const event of await eventLog.after(id, cursor)) {
              if (closed) return;
              const shown =
                access.kind === "client" ? clientEventViews(publicEvent(event, true)) : [publicEvent(event)];
              for (const e of shown)
                raw.write(`id: ${e.id}
event: ${e.type}
data: ${JSON.stringify(e)}

`);
              cursor = event.seq;
              if (FINAL_EVENT_TYPES.has(event.type)) return close();
            }
          } while (again && !closed);
        })()
          .catch((error: unknown) => {
            request.log.error({ err: error }, "SSE stream failed");
            close();
          })
          .finally(() => {
            pumping = undefined;
            // A commit that arrived after the loop's last look at `again` and before this point would be lost.
            if (again) pump();
          });
      };
      const unsubscribe = events.subscribe(id, pump);
      let opened: Awaited<ReturnType<typeof eventLog.openStream>>;
      try {
        opened = await eventLog.openStream(id, access, request.headers["last-event-id"]);
      } catch (error) {
        unsubscribe();
        throw error;
      }
      if (!opened.ok) unsubscribe();
      const { verification, afterSeq } = unwrap(opened);
      cursor = afterSeq;

      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        connection: "keep-alive",
        "x-accel-buffering": "no",
        "x-request-id": String(request.id),
      });
      // The app holding a client token sees what GET shows it (no backend bookkeeping, no risk, no shadow block).
      const state = access.kind === "client" ? clientVerificationView(verification) : verificationView(verification);
      raw.write(`retry: 2000\nevent: state\ndata: ${JSON.stringify(state)}\n\n`);

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
      // Already over and nothing left to replay: the state said everything.
      if (verification.status !== "pending") {
        await pumping;
        close();
      }
    },
  );
};
