/** GET /v1/events and GET /v1/verifications/{id}/events: page through the durable event log. */
import { z } from "zod";
import { publicEvent } from "../../../events/catalogue.js";
import { accessOf, applicationOf, authenticate } from "../../auth.js";
import { EventView } from "../../event-views.js";
import { type RouteRegistration, unwrap } from "../../route-kit.js";
import { clientEvents, commonErrors, ErrorView } from "../../views.js";

const Query = z
  .object({
    after: z.string().min(1).max(64).optional().describe("an event id: the page starts after it"),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();

const Page = z.object({
  data: z.array(EventView),
  has_more: z.boolean(),
  next_after: z.string().nullable().describe("pass as `after` for the next page"),
});

export const registerListEvents: RouteRegistration = (app, services) => {
  app.get(
    "/v1/events",
    {
      onRequest: authenticate(services, "application"),
      schema: {
        summary: "List the application's events",
        description: "All events of the application's verifications in the order they were written.",
        tags: ["events"],
        security: [{ bearer: [] }],
        querystring: Query,
        response: { 200: Page, ...commonErrors, 403: ErrorView },
      },
    },
    async (request) => {
      const applicationId = applicationOf(request);
      const { after, limit } = request.query;
      const page = unwrap(await services.eventLog.forApplication(applicationId, after, limit));
      return {
        data: page.events.map((e) => publicEvent(e)),
        has_more: page.hasMore,
        next_after: page.events.at(-1)?.id ?? after ?? null,
      };
    },
  );

  app.get(
    "/v1/verifications/:id/events",
    {
      onRequest: authenticate(services, "any"),
      schema: {
        summary: "List a verification's events",
        tags: ["events"],
        security: [{ bearer: [] }],
        params: z.object({ id: z.string().min(1).max(64) }),
        response: { 200: z.object({ data: z.array(EventView) }), ...commonErrors },
      },
    },
    async (request) => {
      const access = accessOf(request);
      const events = unwrap(await services.eventLog.forVerification(request.params.id, access));
      // A client token sees its events as its verification's view shows them (no risk, no shadow block).
      if (access.kind !== "client") return { data: events.map((e) => publicEvent(e)) };
      return { data: events.flatMap(clientEvents) };
    },
  );
};
