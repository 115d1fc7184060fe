/** GET /v1/verifications: the application's verifications, newest first, filtered and paged (the dashboard's feed). */
import { z } from "zod";
import { CHANNELS } from "../../../core/types.js";
import { listVerifications } from "../../../core/verification-list.js";
import { applicationOf, authenticate } from "../../auth.js";
import { type RouteRegistration, unwrap } from "../../route-kit.js";
import { commonErrors, ErrorView, VerificationView, verificationView } from "../../views.js";

const Query = z
  .object({
    status: z.enum(["pending", "verified", "failed", "expired", "canceled"]).optional(),
    channel: z.enum(CHANNELS).optional().describe("had an attempt on this channel"),
    country: z
      .string()
      .regex(/^[A-Z]{2}$/)
      .optional()
      .describe("ISO 3166-1 alpha-2"),
    cursor: z.string().min(1).max(128).optional().describe("next_cursor of the previous page"),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();

const Page = z.object({
  data: z.array(VerificationView),
  next_cursor: z.string().nullable().describe("pass as `cursor` for the next, older page; null on the last one"),
});

export const registerListVerifications: RouteRegistration = (app, services) => {
  app.get(
    "/v1/verifications",
    {
      onRequest: authenticate(services, "application"),
      schema: {
        summary: "List verifications",
        description: "Newest first, with their attempts and cost.",
        tags: ["verifications"],
        security: [{ bearer: [] }],
        querystring: Query,
        response: { 200: Page, ...commonErrors, 403: ErrorView },
      },
    },
    async (request) => {
      const { cursor, ...filters } = request.query;
      const page = unwrap(
        await listVerifications(services.store.operator, { applicationId: applicationOf(request), cursor, ...filters }),
      );
      return {
        data: page.verifications.map((v) => verificationView(v, services.rateCard)),
        next_cursor: page.nextCursor,
      };
    },
  );
};
