/**
 * POST /demo/api/verifications: the demo page's stand-in for an integrator's backend. It starts a verification for
 * the default application (a flash call, then the fallback the visitor picked: a message, a voice call, or a reverse
 * flash call placed from the virtual phone; or workflow auto's choice for the number's network) and answers only what a backend
 * hands its browser: the id, the client token and the client's view of the verification. Registered only with
 * the sandbox on, whose calls and messages reach nothing but its virtual phones.
 */
import { z } from "zod";
import { DEFAULT_APPLICATION_ID } from "../../core/api-keys.js";
import { MESSAGE_CHANNELS } from "../../core/types.js";
import { type RouteRegistration, unwrap } from "../route-kit.js";
import { admitStart, startOptions } from "../start-gate.js";
import { clientVerificationView, ErrorView, VerificationView } from "../views.js";

const Body = z
  .object({
    phone: z.string().min(1).max(64).describe("the number to verify, E.164"),
    fallback: z
      .enum([...MESSAGE_CHANNELS, "reverse_flashcall", "auto"])
      .default("sms")
      .describe(
        "the channel after the flash call when it cannot reach the phone, or on request; `auto`: the channels " +
          "workflow auto chooses for the number's network, for a phone that can dial (the virtual phone can)",
      ),
    email: z.email().max(254).optional().describe("the address of the email fallback"),
  })
  .strict()
  .refine((b) => b.fallback !== "email" || b.email !== undefined, {
    message: "the email fallback needs an email address",
    path: ["email"],
  });

const Started = z.object({
  id: z.string(),
  client_token: z.string(),
  verification: VerificationView.describe("what the client token may read of it"),
});

export const registerDemo: RouteRegistration = (app, services) => {
  if (!services.sandbox) return;
  app.post(
    "/demo/api/verifications",
    {
      schema: {
        summary: "Start a verification for the demo page (sandbox only)",
        tags: ["sandbox"],
        body: Body,
        response: { 201: Started, 400: ErrorView, 403: ErrorView, 422: ErrorView, 429: ErrorView, 503: ErrorView },
      },
    },
    async (request, reply) => {
      admitStart(services, request, reply);
      const { phone, fallback, email } = request.body;
      const input =
        fallback === "auto"
          ? { phone, email, workflow: "auto" as const, client: { can_dial: true } }
          : { phone, email, workflow: [{ channel: "flashcall" as const }, { channel: fallback }] };
      const started = unwrap(
        await services.verifications.start(DEFAULT_APPLICATION_ID, input, startOptions(services, request)),
      );
      return reply.code(201).send({
        id: started.verification.id,
        client_token: started.clientToken,
        verification: clientVerificationView(started.verification),
      });
    },
  );
};
