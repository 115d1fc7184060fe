/**
 * DELETE /v1/verifications/{id}: a person's right to erasure. The verification's phone number, email, client (IP,
 * user agent, device), reference, metadata and provider texts are removed at once, from it, its attempts and its
 * events (a live one is canceled first); what is left is the tombstone, saying when and which API key asked.
 */
import { z } from "zod";
import { apiKeyOf, applicationOf, authenticate } from "../../auth.js";
import { type RouteRegistration, unwrap } from "../../route-kit.js";
import { commonErrors, ErrorView, VerificationView, verificationView } from "../../views.js";

const Params = z.object({ id: z.string().min(1).max(64) });

export const registerEraseVerification: RouteRegistration = (app, services) => {
  app.delete(
    "/v1/verifications/:id",
    {
      onRequest: authenticate(services, "application"),
      schema: {
        summary: "Erase a verification's personal data",
        description:
          "Removes the phone number, email, client, reference, metadata and provider texts of the verification, its " +
          "attempts and its events, canceling it first if it is pending. Answers the tombstone (`redaction`).",
        tags: ["verifications"],
        security: [{ bearer: [] }],
        params: Params,
        response: { 200: VerificationView, ...commonErrors, 403: ErrorView },
      },
    },
    async (request) => {
      const applicationId = applicationOf(request);
      const erased = await services.retention.erase(applicationId, request.params.id, apiKeyOf(request));
      return verificationView(unwrap(erased), services.rateCard);
    },
  );
};
