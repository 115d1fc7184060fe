/** POST /v1/verifications/{id}/next: "Use SMS instead": move to the workflow's next step now. */
import { z } from "zod";
import { accessOf, authenticate } from "../../auth.js";
import { type RouteRegistration, unwrap } from "../../route-kit.js";
import { clientVerificationView, commonErrors, ErrorView, VerificationView, verificationView } from "../../views.js";

const Params = z.object({ id: z.string().min(1).max(64) });

export const registerNextStep: RouteRegistration = (app, services) => {
  app.post(
    "/v1/verifications/:id/next",
    {
      onRequest: authenticate(services, "any"),
      schema: {
        summary: 'Move to the next step ("Use SMS instead"), or resend on the last message step',
        description:
          "Accepts the backend's API key or the verification's client_token. The current step's code stops being " +
          "accepted and a ringing flash call is hung up.",
        tags: ["verifications"],
        security: [{ bearer: [] }],
        params: Params,
        response: { 200: VerificationView, ...commonErrors, 409: ErrorView },
      },
    },
    async (request) => {
      const access = accessOf(request);
      const verification = unwrap(await services.verifications.next(request.params.id, access));
      // The app holding a client token sees what GET shows it: no risk, prices or trunks, and no shadow block.
      return access.kind === "client"
        ? clientVerificationView(verification)
        : verificationView(verification, services.rateCard);
    },
  );
};
