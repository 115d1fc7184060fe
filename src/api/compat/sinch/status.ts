/**
 * GET /verification/v1/verifications/id/{id}, /{method}/number/{endpoint} and /reference/{reference}: Sinch's
 * status reads, each a read of one of our verifications (by number and by reference: the newest one).
 */
import { z } from "zod";
import { methodOf } from "../../../events/sinch-vocabulary.js";
import type { Services } from "../../../services.js";
import { accessOf } from "../../auth.js";
import { HttpError } from "../../errors.js";
import type { App } from "../../route-kit.js";
import { SinchErrorView } from "./errors.js";
import { latestByNumber } from "./report.js";
import { StatusView, statusView } from "./views.js";

const schema = {
  tags: ["compat: Sinch"],
  response: { 200: StatusView, 400: SinchErrorView, 401: SinchErrorView, 404: SinchErrorView },
};

export function registerSinchStatus(app: App, services: Services): void {
  const read = async (id: string, access: ReturnType<typeof accessOf>) => {
    const got = await services.verifications.get(id, access);
    if (!got.ok) throw new HttpError(got.error);
    return got.value;
  };

  app.get(
    "/verifications/id/:id",
    {
      schema: {
        ...schema,
        summary: "Verification status by id (Sinch)",
        params: z.object({ id: z.string().min(1).max(64) }),
      },
    },
    async (request) => statusView(await read(request.params.id, accessOf(request))),
  );

  app.get(
    "/verifications/:method/number/:endpoint",
    {
      schema: {
        ...schema,
        summary: "Verification status by method and number (Sinch)",
        params: z.object({ method: z.string().min(1).max(32), endpoint: z.string().min(1).max(64) }),
      },
    },
    async (request) => {
      const access = accessOf(request);
      const v = await read(await latestByNumber(services, access, request.params.endpoint), access);
      // The number's newest verification went by another method: there is none by this one to report on.
      if (methodOf(v) !== request.params.method) throw new HttpError({ code: "VERIFICATION_NOT_FOUND" });
      return statusView(v);
    },
  );

  app.get(
    "/verifications/reference/:reference",
    {
      schema: {
        ...schema,
        summary: "Verification status by reference (Sinch)",
        params: z.object({ reference: z.string().min(1).max(128) }),
      },
    },
    async (request) => {
      const access = accessOf(request);
      if (access.kind !== "application") throw new HttpError({ code: "FORBIDDEN" });
      const id = await services.store.sinch.latestVerificationId(access.applicationId, {
        reference: request.params.reference,
      });
      if (!id) throw new HttpError({ code: "VERIFICATION_NOT_FOUND" });
      return statusView(await read(id, access));
    },
  );
}
