/**
 * PUT /verification/v1/verifications/id/{id} and /number/{endpoint}: Sinch's report, translated into our check.
 * `flashCall.cli` (and `flashcall.cli`, as Sinch's Android SDK writes it) is the caller ID the phone saw; `sms.code`,
 * `callout.code` and `whatsapp.code` are message codes. By number, the report goes to the number's newest
 * verification of the application.
 */
import { z } from "zod";
import { parseDestination } from "../../../core/phone.js";
import type { CheckInput } from "../../../core/verification-service.js";
import type { Services } from "../../../services.js";
import { accessOf } from "../../auth.js";
import { HttpError } from "../../errors.js";
import type { App } from "../../route-kit.js";
import { SinchErrorView } from "./errors.js";
import { ReportView, reportView } from "./views.js";

const Cli = z.object({ cli: z.string().min(1).max(40) });
const Code = z.object({ code: z.string().min(1).max(40), cli: z.string().max(40).optional() });

const Body = z
  .object({
    method: z.string().min(1).max(32),
    flashCall: Cli.optional(),
    flashcall: Cli.optional(),
    sms: Code.optional(),
    callout: Code.optional(),
    whatsapp: Code.optional(),
  })
  .refine(
    (b) => [b.flashCall ?? b.flashcall, b.sms, b.callout, b.whatsapp].filter(Boolean).length === 1,
    "send one of flashCall.cli, sms.code, callout.code or whatsapp.code",
  );

const errors = {
  400: SinchErrorView,
  401: SinchErrorView,
  404: SinchErrorView,
  409: SinchErrorView,
  429: SinchErrorView,
  503: SinchErrorView,
};
const schema = { tags: ["compat: Sinch"], body: Body, response: { 200: ReportView, ...errors } };

export function registerSinchReport(app: App, services: Services): void {
  const report = async (id: string, body: z.infer<typeof Body>, ip: string, access: ReturnType<typeof accessOf>) => {
    const cli = (body.flashCall ?? body.flashcall)?.cli;
    const input: CheckInput =
      cli === undefined ? { code: (body.sms ?? body.callout ?? body.whatsapp)?.code } : { callerId: cli };
    const checked = await services.verifications.check(id, access, input, { requestIp: ip });
    if (!checked.ok) throw new HttpError(checked.error);
    return reportView(checked.value.verification);
  };

  app.put(
    "/verifications/id/:id",
    {
      schema: {
        ...schema,
        summary: "Report a code by verification id (Sinch)",
        params: z.object({ id: z.string().min(1).max(64) }),
      },
    },
    async (request) => report(request.params.id, request.body, request.ip, accessOf(request)),
  );

  app.put(
    "/verifications/number/:endpoint",
    {
      schema: {
        ...schema,
        summary: "Report a code by phone number (Sinch)",
        params: z.object({ endpoint: z.string().min(1).max(64) }),
      },
    },
    async (request) => {
      const access = accessOf(request);
      const id = await latestByNumber(services, access, request.params.endpoint);
      return report(id, request.body, request.ip, access);
    },
  );
}

/** The id of the number's newest verification of the calling application; VERIFICATION_NOT_FOUND if none. */
export async function latestByNumber(
  services: Services,
  access: ReturnType<typeof accessOf>,
  endpoint: string,
): Promise<string> {
  const phone = parseDestination(endpoint);
  if (!phone) throw new HttpError({ code: "INVALID_PHONE_NUMBER" });
  if (access.kind !== "application") throw new HttpError({ code: "FORBIDDEN" });
  const id = await services.store.sinch.latestVerificationId(access.applicationId, { phone: phone.e164 });
  if (!id) throw new HttpError({ code: "VERIFICATION_NOT_FOUND" });
  return id;
}
