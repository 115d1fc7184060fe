/** POST /v1/verifications: start verifying a phone number: a flash call, or the steps of a workflow. */
import { z } from "zod";
import { CHANNELS } from "../../../core/types.js";
import { applicationOf, authenticate } from "../../auth.js";
import { type RouteRegistration, unwrap } from "../../route-kit.js";
import { admitStart, startOptions } from "../../start-gate.js";
import {
  commonErrors,
  ErrorView,
  FlashcallView,
  MessageView,
  ReverseFlashcallView,
  VerificationView,
  verificationView,
} from "../../views.js";

const Body = z
  .object({
    phone: z.string().min(1).max(64).describe("the number to verify, E.164 (+447400123456) or 0044..."),
    workflow: z
      .union([
        z.literal("auto"),
        z
          .array(
            z
              .object({
                channel: z.enum(CHANNELS),
                timeout: z
                  .number()
                  .int()
                  .min(5)
                  .max(600)
                  .optional()
                  .describe("seconds before the next step starts (a flash call: at most 120)"),
              })
              .strict()
              .refine((s) => s.channel !== "flashcall" || s.timeout === undefined || s.timeout <= 120, {
                message: "a flash call's timeout is its code's lifetime: at most 120 seconds",
              }),
          )
          .min(1)
          .max(5),
      ])
      .optional()
      .describe(
        'the channels to try, in order, or "auto": chosen for the destination\'s network by measured delivery ' +
          "(channel_choice says why); default the server's workflow (WORKFLOW)",
      ),
    email: z.email().max(254).optional().describe("the address for an email step"),
    country: z
      .string()
      .regex(/^[A-Z]{2}$/, "an ISO 3166-1 alpha-2 code like GB")
      .optional()
      .describe("the country of a number written nationally (07400 123456)"),
    reference: z.string().max(128).optional().describe("your own id for this verification"),
    locale: z
      .string()
      .regex(/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$/, "a BCP 47 language tag like es or pt-BR")
      .max(35)
      .optional()
      .describe("the language the person reads; default the number's country's, then the application's default"),
    metadata: z
      .record(z.string().max(64), z.union([z.string().max(512), z.number(), z.boolean(), z.null()]))
      .refine((m) => Object.keys(m).length <= 20, "at most 20 keys")
      .optional(),
    client: z
      .object({
        ip: z.union([z.ipv4(), z.ipv6()]).optional().describe("the person's IP; default the request's address"),
        device_id: z.string().min(1).max(128).optional(),
        platform: z.enum(["android", "ios", "web", "other"]).optional(),
        app_version: z.string().min(1).max(32).optional(),
        user_agent: z.string().min(1).max(512).optional(),
        can_dial: z
          .boolean()
          .optional()
          .describe('the client can place a call (an app on a phone): "auto" may choose the reverse flash call'),
      })
      .strict()
      .optional()
      .describe("what your backend knows about the person's device, for the fraud controls"),
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
  flashcall: FlashcallView.nullable(),
  message: MessageView.nullable(),
  reverse_flashcall: ReverseFlashcallView.nullable().describe(
    "a reverse flash call: the number the phone is to call (a tel: link) and until when; null otherwise",
  ),
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
        response: {
          201: Started,
          ...commonErrors,
          403: ErrorView,
          409: ErrorView,
          422: ErrorView,
          429: ErrorView,
          503: ErrorView,
        },
      },
    },
    async (request, reply) => {
      const applicationId = applicationOf(request);
      admitStart(services, request, reply);
      const options = startOptions(services, request, request.headers["idempotency-key"]);
      const started = unwrap(await services.verifications.start(applicationId, request.body, options));
      if (started.replayed) reply.header("idempotent-replayed", "true");
      const view = verificationView(started.verification, services.rateCard);
      return reply.code(201).send({
        id: view.id,
        status: view.status,
        phone: view.phone,
        channel: view.channel,
        expires_at: view.expires_at,
        client_token: started.clientToken,
        flashcall: view.flashcall,
        message: view.message,
        reverse_flashcall: view.reverse_flashcall,
        guess_probability: view.guess_probability,
        verification: view,
      });
    },
  );
};
