/** POST /v1/verifications/{id}/cancel: end a pending verification (its call is hung up). */
import { z } from "zod";
import { applicationOf, authenticate } from "../../auth.js";
import { type RouteRegistration, unwrap } from "../../route-kit.js";
import { commonErrors, ErrorView, VerificationView, verificationView } from "../../views.js";

const Params = z.object({ id: z.string().min(1).max(64) });

export const registerCancelVerification: RouteRegistration = (app, services) => {
  app.post(
    "/v1/verifications/:id/cancel",
    {
      onRequest: authenticate(services, "application"),
      schema: {
        summary: "Cancel a verification",
        tags: ["verifications"],
        security: [{ bearer: [] }],
        params: Params,
        response: { 200: VerificationView, ...commonErrors, 403: ErrorView, 409: ErrorView },
      },
    },
    async (request) => {
      const applicationId = applicationOf(request);
      const access = { kind: "application", applicationId } as const;
      return verificationView(
        unwrap(await services.verifications.cancel(request.params.id, access)),
        services.rateCard,
      );
    },
  );
};
