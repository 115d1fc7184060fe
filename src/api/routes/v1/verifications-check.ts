/** POST /v1/verifications/{id}/check: report the missed call's caller ID, or its last digits. */
import { z } from "zod";
import { accessOf, authenticate } from "../../auth.js";
import { type RouteRegistration, unwrap } from "../../route-kit.js";
import { commonErrors, ErrorView, VerificationView } from "../../views.js";

const Params = z.object({ id: z.string().min(1).max(64) });
const Body = z
  .object({
    code: z
      .string()
      .min(1)
      .max(40)
      .optional()
      .describe("the last digits of the caller ID, or the code a message (SMS, WhatsApp, email) carried"),
    caller_id: z.string().min(1).max(40).optional().describe("the whole caller ID, in any common format"),
  })
  .strict()
  .refine((b) => (b.code === undefined) !== (b.caller_id === undefined), "send exactly one of code or caller_id")
  .meta({ example: { code: "1234" } });

const Checked = z.object({
  id: z.string(),
  status: VerificationView.shape.status,
  attempts_remaining: z.number().int(),
});

export const registerCheckVerification: RouteRegistration = (app, services) => {
  app.post(
    "/v1/verifications/:id/check",
    {
      onRequest: authenticate(services, "any"),
      schema: {
        summary: "Check a caller ID or code",
        description: "Accepts the backend's API key or the verification's client_token.",
        tags: ["verifications"],
        security: [{ bearer: [] }],
        params: Params,
        body: Body,
        response: { 200: Checked, ...commonErrors, 409: ErrorView, 429: ErrorView, 503: ErrorView },
      },
    },
    async (request) => {
      const access = accessOf(request);
      const checked = unwrap(
        await services.verifications.check(
          request.params.id,
          access,
          { code: request.body.code, callerId: request.body.caller_id },
          { requestIp: request.ip },
        ),
      );
      return {
        id: checked.verification.id,
        status: checked.verification.status,
        attempts_remaining: checked.attemptsRemaining,
      };
    },
  );
};
