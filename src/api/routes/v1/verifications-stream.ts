/**
 * GET /v1/verifications/{id}/stream: live status as Server-Sent Events, for the backend or the app holding the
 * verification's client token. The stream opens with the current state (`event: state`), then sends each event
 * as it commits (`id:` is the event id, `event:` its type, `data:` the same JSON a webhook carries), a comment
 * line as heartbeat, and closes after the final event. A client that reconnects with `Last-Event-ID` gets every
 * event after that one from the durable log, so a dropped connection loses nothing. A server shutting down ends its
 * streams the same way. Past a stream cap (process, application, verification): `429 TOO_MANY_STREAMS`.
 */
import { z } from "zod";
import { FINAL_EVENT_TYPES, publicEvent } from "../../../events/catalogue.js";
import { accessOf, authenticate } from "../../auth.js";
import { OpenStreams } from "../../open-streams.js";
import { type RouteRegistration, unwrap } from "../../route-kit.js";
import { SseStream, takeStreamPlace } from "../../sse-stream.js";
import { clientEvents, clientVerificationView, commonErrors, ErrorView, verificationView } from "../../views.js";

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
        response: { ...commonErrors, 429: ErrorView },
      },
    },
    async (request, reply) => {
      const access = accessOf(request);
      const { id } = request.params;
      const { eventLog, events } = services;

      let cursor = 0;
      const stream = new SseStream(request, async () => {
        for (const event of await eventLog.after(id, cursor)) {
          if (stream.closed) return;
          const shown = access.kind === "client" ? clientEvents(event) : [publicEvent(event)];
          for (const e of shown) stream.send(e);
          cursor = event.seq;
          if (FINAL_EVENT_TYPES.has(event.type)) return stream.close();
        }
      });
      // Listen before reading the cursor: a commit in between then wakes the stream, which reads from the log.
      const unsubscribeHub = events.subscribe(id, stream.wake);
      let opened: Awaited<ReturnType<typeof eventLog.openStream>>;
      try {
        opened = await eventLog.openStream(id, access, request.headers["last-event-id"]);
      } catch (error) {
        unsubscribeHub();
        throw error;
      }
      if (!opened.ok) unsubscribeHub();
      const { verification, afterSeq } = unwrap(opened);
      cursor = afterSeq;
      // The application is known once the verification is (a client token names only the verification).
      let release: () => void;
      try {
        release = takeStreamPlace(services.streamCaps, verification.applicationId, id);
      } catch (error) {
        unsubscribeHub();
        throw error;
      }
      const unsubscribe = () => {
        unsubscribeHub();
        release();
      };

      // The app holding a client token sees what GET shows it (no backend bookkeeping, no risk, no shadow block).
      const state =
        access.kind === "client"
          ? clientVerificationView(verification)
          : verificationView(verification, services.rateCard);
      const first = `retry: 2000\nevent: state\ndata: ${JSON.stringify(state)}\n\n`;
      stream.open(reply, streams, services.config.SSE_HEARTBEAT_MS, first, unsubscribe);
      // Already over and nothing left to replay: the state said everything.
      if (verification.status !== "pending") {
        await stream.idle();
        stream.close();
      }
    },
  );
};
