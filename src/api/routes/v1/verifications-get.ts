/** GET /v1/verifications/{id}: the verification with its attempts. */
import { z } from "zod";
import { requireAccess } from "../../auth.js";
import { type RouteRegistration, unwrap } from "../../route-kit.js";
import { commonErrors, VerificationView, verificationView } from "../../views.js";

const Params = z.object({ id: z.string().min(1).max(64) });

export const registerGetVerification: RouteRegistration = (app, services) => {
  app.get(
    "/v1/verifications/:id",
    {
      schema: {
        summary: "Read a verification",
        tags: ["verifications"],
        security: [{ bearer: [] }],
        params: Params,
        response: { 200: VerificationView, ...commonErrors },
      },
    },
    async (request) => {
      const access = await requireAccess(request, services);
      return verificationView(unwrap(await services.verifications.get(request.params.id, access)));
    },
  );
};
