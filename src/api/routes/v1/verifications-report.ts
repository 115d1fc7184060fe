/** POST /v1/verifications/{id}/report: the phone says what it saw of the flash call. It never verifies anything. */
import { z } from "zod";
import { reportedAttempt } from "../../../core/delivery-report.js";
import { REPORT_OUTCOMES, REPORT_SOURCES } from "../../../core/types.js";
import { accessOf, authenticate } from "../../auth.js";
import { type RouteRegistration, unwrap } from "../../route-kit.js";
import { AttemptView, commonErrors, ErrorView, VerificationView } from "../../views.js";

const Params = z.object({ id: z.string().min(1).max(64) });
const Body = z
  .object({
    flashcall: z
      .object({
        outcome: z
          .enum(REPORT_OUTCOMES)
          .describe("received; late (it came after the step had moved on); not_received (it never came)"),
        source: z
          .enum(REPORT_SOURCES)
          .describe("intercept (the app read the incoming call), call_log, or manual (the person said so)"),
      })
      .strict(),
  })
  .strict()
  .meta({ example: { flashcall: { outcome: "not_received", source: "call_log" } } });

const Reported = z.object({
  id: z.string(),
  status: VerificationView.shape.status,
  attempt_id: z.string().describe("the flash call the report is about: the verification's latest"),
  phone_report: AttemptView.shape.phone_report,
  recorded: z.boolean().describe("false when the report repeats what was already reported (a retry counts once)"),
});

export const registerReportDelivery: RouteRegistration = (app, services) => {
  app.post(
    "/v1/verifications/:id/report",
    {
      onRequest: authenticate(services, "any"),
      schema: {
        summary: "Report what the phone saw of the flash call",
        description:
          "Accepts the backend's API key or the verification's client_token. A report verifies nothing: it is " +
          "recorded on the latest flash call, told as an attempt.reported event and counted in the delivery " +
          "statistics that choose channels for workflow auto. A repeated report changes nothing; a call reported " +
          "not_received may later be reported late or received.",
        tags: ["verifications"],
        security: [{ bearer: [] }],
        params: Params,
        body: Body,
        response: { 200: Reported, ...commonErrors, 409: ErrorView },
      },
    },
    async (request) => {
      const { flashcall } = request.body;
      const updated = unwrap(await services.verifications.report(request.params.id, accessOf(request), flashcall));
      const v = updated.saved ?? updated.read;
      const attempt = reportedAttempt(v);
      const report = attempt?.phoneReport ?? null;
      return {
        id: v.id,
        status: v.status,
        attempt_id: attempt?.id ?? "",
        phone_report: report && { ...report, at: new Date(report.at).toISOString() },
        recorded: updated.saved !== undefined,
      };
    },
  );
};
