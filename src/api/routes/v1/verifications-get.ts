/** GET /v1/verifications/{id}: the verification with its attempts. */
import { z } from "zod";
import { accessOf, authenticate } from "../../auth.js";
import { type RouteRegistration, unwrap } from "../../route-kit.js";
import { clientVerificationView, commonErrors, VerificationView, verificationView } from "../../views.js";

const Params = z.object({ id: z.string().min(1).max(64) });

export const registerGetVerification: RouteRegistration = (app, services) => {
  app.get(
    "/v1/verifications/:id",
    {
      onRequest: authenticate(services, "any"),
      schema: {
        summary: "Read a verification",
        tags: ["verifications"],
        security: [{ bearer: [] }],
        params: Params,
        response: { 200: VerificationView, ...commonErrors },
      },
    },
    async (request) => {
      const access = accessOf(request);
      const verification = unwrap(await services.verifications.get(request.params.id, access));
      return access.kind === "client"
        ? clientVerificationView(verification)
        : verificationView(verification, services.rateCard);
    },
  );
};
