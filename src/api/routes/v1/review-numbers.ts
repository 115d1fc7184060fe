/**
 * GET/POST/DELETE /v1/review-numbers: the application's review numbers (src/core/review-numbers.ts), which verify with
 * a fixed code or caller ID and never send anything, for app-store reviewers and synthetic checks. Each says who
 * added it and when; a removed one is kept with who removed it and when, listed with `include_removed=true`.
 */
import { z } from "zod";
import type { ReviewNumberRecord } from "../../../core/review-numbers.js";
import { apiKeyOf, applicationOf, authenticate } from "../../auth.js";
import { HttpError } from "../../errors.js";
import { type RouteRegistration, unwrap } from "../../route-kit.js";
import { commonErrors, ErrorView } from "../../views.js";

const ReviewNumberView = z.object({
  id: z.string(),
  phone: z.string().describe("E.164"),
  code: z.string().nullable().describe("the code its message and voice steps accept"),
  caller_id: z.string().nullable().describe("the caller ID its flash-call step shows; its last digits are the code"),
  label: z.string(),
  created_at: z.string(),
  created_by: z.string().describe("the API key that added it"),
  removed_at: z.string().nullable(),
  removed_by: z.string().nullable().describe("the API key that removed it"),
});

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const view = (r: ReviewNumberRecord): z.infer<typeof ReviewNumberView> => ({
  id: r.id,
  phone: r.phone,
  code: r.code,
  caller_id: r.callerId,
  label: r.label,
  created_at: iso(r.createdAt) as string,
  created_by: r.createdBy,
  removed_at: iso(r.removedAt),
  removed_by: r.removedBy,
});

const Body = z
  .object({
    phone: z.string().min(1).max(40).describe("the number, E.164"),
    code: z.string().max(10).optional().describe("4-10 digits: what message and voice steps accept"),
    caller_id: z.string().max(40).optional().describe("E.164: what a flash-call step seems to call from"),
    label: z.string().max(200).optional().describe("what it is for, e.g. App Store review"),
  })
  .strict();

export const registerReviewNumbers: RouteRegistration = (app, services) => {
  const tags = ["review numbers"];
  const security = [{ bearer: [] }];

  app.get(
    "/v1/review-numbers",
    {
      onRequest: authenticate(services, "application"),
      schema: {
        summary: "The application's review numbers: fixed codes that never send anything",
        tags,
        security,
        querystring: z
          .object({
            include_removed: z.enum(["true", "false"]).optional().describe("also removed ones, for the audit"),
          })
          .strict(),
        response: { 200: z.object({ data: z.array(ReviewNumberView) }), ...commonErrors, 403: ErrorView },
      },
    },
    async (request) => {
      const records = await services.reviewNumbers.list(
        applicationOf(request),
        request.query.include_removed === "true",
      );
      return { data: records.map(view) };
    },
  );

  app.post(
    "/v1/review-numbers",
    {
      onRequest: authenticate(services, "application"),
      schema: {
        summary: "Add a review number",
        description:
          "A start to it sends nothing: its step completes at once, with no limits, risk scoring or pumping detection. " +
          "A check of it is counted like any other: a wrong code fails.",
        tags,
        security,
        body: Body,
        response: { 201: ReviewNumberView, ...commonErrors, 403: ErrorView, 409: ErrorView, 422: ErrorView },
      },
    },
    async (request, reply) => {
      const by = apiKeyOf(request);
      const { phone, code, caller_id, label } = request.body;
      const record = unwrap(
        await services.reviewNumbers.add(applicationOf(request), { phone, code, callerId: caller_id, label }, by),
      );
      request.log.info({ review_number: record.id, by }, "review number added");
      return reply.code(201).send(view(record));
    },
  );

  app.delete(
    "/v1/review-numbers/:id",
    {
      onRequest: authenticate(services, "application"),
      schema: {
        summary: "Remove a review number (kept for the audit, with who removed it and when)",
        tags,
        security,
        params: z.object({ id: z.string().min(1).max(64) }),
        response: { 204: z.null(), ...commonErrors, 403: ErrorView },
      },
    },
    async (request, reply) => {
      const by = apiKeyOf(request);
      const removed = await services.reviewNumbers.remove(applicationOf(request), request.params.id, by);
      if (!removed) throw new HttpError({ code: "REVIEW_NUMBER_NOT_FOUND" });
      request.log.info({ review_number: request.params.id, by }, "review number removed");
      return reply.code(204).send(null);
    },
  );
};
