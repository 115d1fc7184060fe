/** POST /v1/verifications: start verifying a phone number with a flash call. */
import { z } from "zod";
import { applicationOf, authenticate } from "../../auth.js";
import { HttpError } from "../../errors.js";
import { type RouteRegistration, unwrap } from "../../route-kit.js";
import { commonErrors, ErrorView, FlashcallView, VerificationView, verificationView } from "../../views.js";

const Body = z
  .object({
    phone: z.string().min(1).max(64).describe("the number to verify, E.164 (+447400123456) or 0044..."),
    reference: z.string().max(128).optional().describe("your own id for this verification"),
    metadata: z
      .record(z.string().max(64), z.union([z.string().max(512), z.number(), z.boolean(), z.null()]))
      .refine((m) => Object.keys(m).length <= 20, "at most 20 keys")
      .optional(),
    client: z
      .object({
        ip: z.union([z.ipv4(), z.ipv6()]).optional(),
        device_id: z.string().max(128).optional(),
        platform: z.enum(["android", "ios", "web", "other"]).optional(),
      })
      .strict()
      .optional()
      .describe("what your backend knows about the person's device, for fraud controls"),
  })
  .strict();

const Headers = z.object({
  "idempotency-key": z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, "1 to 255 printable ASCII characters")
    .optional()
    .describe("a retry with the same key and body returns the first verification instead of calling again"),
});

const Started = VerificationView.pick({ id: true, status: true, phone: true, channel: true, expires_at: true }).extend({
  client_token: z.string().describe("give this to the app/browser: it may check, read status, nothing else"),
  flashcall: FlashcallView,
  guess_probability: z.number(),
  verification: VerificationView,
});

export const registerStartVerification: RouteRegistration = (app, services) => {
  app.post(
    "/v1/verifications",
    {
      onRequest: authenticate(services, "application"),
      schema: {
        summary: "Start a verification",
        tags: ["verifications"],
        security: [{ bearer: [] }],
        body: Body,
        headers: Headers,
        response: { 201: Started, ...commonErrors, 403: ErrorView, 409: ErrorView, 422: ErrorView, 503: ErrorView },
      },
    },
    async (request, reply) => {
      const applicationId = applicationOf(request);
      if (services.lag.overloaded) throw new HttpError({ code: "OVERLOADED", retryAfterSeconds: 1 });
      const idempotencyKey = request.headers["idempotency-key"];
      const started = unwrap(await services.verifications.start(applicationId, request.body, { idempotencyKey }));
      if (started.replayed) reply.header("idempotent-replayed", "true");
      const view = verificationView(started.verification);
      return reply.code(201).send({
        id: view.id,
        status: view.status,
        phone: view.phone,
        channel: view.channel,
        expires_at: view.expires_at,
        client_token: started.clientToken,
        flashcall: view.flashcall,
        guess_probability: view.guess_probability,
        verification: view,
      });
    },
  );
};
