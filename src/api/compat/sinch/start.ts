/**
 * POST /verification/v1/verifications: Sinch's start, translated into our start with a one-step workflow (the
 * method's channel) and nothing else; the screening, limits and callbacks are the ones every start passes.
 *
 * What differs from Sinch, on purpose:
 * - `flashCall.cliFilter` leaves the code digits open (`^(?:(?:\+|00)?4416329604)\d{2}$`): Sinch's filter may
 *   name the whole caller ID, which would hand the code to whoever reads the answer before the call arrives.
 * - `flashCallOptions.dialTimeout` is not honoured: the ring time is the server's (SIP_RING_TIME_MS).
 * - `callout` needs a voice channel on this server; `seamless` is not offered.
 * - SMS codes are numeric, of the server's length (OTP_LENGTH); `smsOptions.expiry` sets the step's lifetime.
 * - `smsOptions.locale` (and `calloutOptions.speech.locale`) is the start's `locale`: it picks the template's
 *   language, and `sms.template` is the SMS the application's template in that language will send.
 * - `custom` is kept as the verification's `metadata.custom` (at most 512 characters).
 */
import { z } from "zod";
import type { AppError } from "../../../core/errors.js";
import type { ChannelName } from "../../../core/types.js";
import { CHANNEL_OF_METHOD, methodOf } from "../../../events/sinch-vocabulary.js";
import type { Services } from "../../../services.js";
import { applicationOf } from "../../auth.js";
import { HttpError } from "../../errors.js";
import type { App } from "../../route-kit.js";
import { admitStart, startOptions } from "../../start-gate.js";
import { SinchErrorView } from "./errors.js";
import { flashCallFilter, Identity } from "./views.js";

const Seconds = z.number().int().min(5).max(600);
const Locale = z
  .string()
  .regex(/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$/, "a language-region identifier like es-ES")
  .max(35);

const Body = z.object({
  identity: z.object({ type: z.literal("number"), endpoint: z.string().min(1).max(64) }),
  method: z.string().min(1).max(32),
  reference: z.string().min(1).max(128).optional(),
  custom: z.string().max(512).optional(),
  flashCallOptions: z
    .object({
      dialTimeout: z.number().int().min(1).max(120).optional(),
      interceptionTimeout: Seconds.max(120).optional().describe("seconds the flash call's code is accepted"),
    })
    .optional(),
  smsOptions: z
    .object({
      expiry: z
        .string()
        .regex(/^\d{2}:\d{2}:\d{2}$/, "HH:MM:SS")
        .optional(),
      codeType: z.string().optional(),
      locale: Locale.optional(),
    })
    .optional(),
  calloutOptions: z.object({ speech: z.object({ locale: Locale.optional() }).optional() }).optional(),
});

const Link = z.object({ rel: z.string(), href: z.string(), method: z.string() });

const Started = z.object({
  id: z.string(),
  method: z.string(),
  flashCall: z
    .object({
      cliFilter: z.string().describe("the caller ID's pattern with the code digits left open"),
      interceptionTimeout: z.number().int(),
      reportTimeout: z.number().int(),
      denyCallAfter: z.number().int(),
    })
    .optional(),
  sms: z.object({ template: z.string(), interceptionTimeout: z.number().int() }).optional(),
  callout: z.object({}).optional(),
  whatsapp: z.object({}).optional(),
  identity: Identity,
  _links: z.array(Link),
});

export function registerSinchStart(app: App, services: Services): void {
  app.post(
    "/verifications",
    {
      schema: {
        summary: "Start a verification (Sinch Verification v1)",
        tags: ["compat: Sinch"],
        body: Body,
        response: {
          200: Started,
          400: SinchErrorView,
          401: SinchErrorView,
          403: SinchErrorView,
          409: SinchErrorView,
          413: SinchErrorView,
          422: SinchErrorView,
          429: SinchErrorView,
          503: SinchErrorView,
        },
      },
    },
    async (request, reply) => {
      const applicationId = applicationOf(request);
      admitStart(services, request, reply);
      const body = request.body;
      const channel = channelFor(body.method, services);
      const timeout =
        channel === "flashcall" ? body.flashCallOptions?.interceptionTimeout : expirySeconds(body.smsOptions?.expiry);
      if (body.smsOptions?.codeType !== undefined && body.smsOptions.codeType !== "Numeric") {
        throw new HttpError({ code: "INVALID_REQUEST", message: "smsOptions.codeType: only Numeric codes are sent" });
      }
      const started = await services.verifications.start(
        applicationId,
        {
          phone: body.identity.endpoint,
          workflow: [{ channel: channel as ChannelName, timeout }],
          reference: body.reference,
          locale: channel === "voice" ? body.calloutOptions?.speech?.locale : body.smsOptions?.locale,
          metadata: body.custom === undefined ? undefined : { custom: body.custom },
        },
        startOptions(services, request),
      );
      if (!started.ok) throw new HttpError(started.error);
      const v = started.value.verification;
      // The application's callback said no: Sinch answers such a start with an error, and so do we.
      if (v.status === "failed" && v.reason === "denied_by_application") {
        throw new HttpError({ code: "VERIFICATION_BLOCKED", message: "Denied by callback." });
      }
      const base = `${request.protocol}://${request.host}/verification/v1/verifications/id/${v.id}`;
      const links = [
        { rel: "status", href: base, method: "GET" },
        { rel: "report", href: base, method: "PUT" },
      ];
      const stepSeconds = Math.round((v.workflow[v.step]?.timeoutMs ?? 0) / 1000);
      // The application's request callback may have chosen another method: answer the one that was started.
      const sent = v.workflow[v.step]?.channel ?? channel;
      const answer = {
        id: v.id,
        method: methodOf(v),
        identity: { type: "number" as const, endpoint: v.phone },
        _links: links,
      };
      if (sent === "flashcall") {
        return {
          ...answer,
          flashCall: {
            cliFilter: flashCallFilter(v) ?? "",
            interceptionTimeout: stepSeconds,
            reportTimeout: Math.max(0, Math.round((v.expiresAt - services.clock.now()) / 1000)),
            // The server hangs up itself after the ring time: the app need not reject the call.
            denyCallAfter: 0,
          },
        };
      }
      if (sent === "sms") {
        // The SMS as the application's template in the verification's language writes it, with Sinch's {{CODE}}.
        const attempt = v.attempts.at(-1);
        const ttlMs = attempt ? attempt.expiresAt - (attempt.dialedAt ?? attempt.createdAt) : stepSeconds * 1000;
        const sms = await services.templates.render(v, "sms", "{{CODE}}", ttlMs);
        return { ...answer, sms: { template: sms.text, interceptionTimeout: stepSeconds } };
      }
      return sent === "voice" ? { ...answer, callout: {} } : { ...answer, whatsapp: {} };
    },
  );
}

function channelFor(method: string, services: Services): string {
  const channel = CHANNEL_OF_METHOD[method];
  const configured = channel === "flashcall" || (channel && channel in services.messageChannels);
  if (channel && configured) return channel;
  const error: AppError = {
    code: "CHANNEL_NOT_CONFIGURED",
    message:
      method === "callout"
        ? "callout needs a voice channel, which this server does not have configured."
        : `The method ${JSON.stringify(method)} is not offered by this server (flashcall, sms${"whatsapp" in services.messageChannels ? ", whatsapp" : ""}).`,
  };
  throw new HttpError(error);
}

function expirySeconds(expiry: string | undefined): number | undefined {
  if (expiry === undefined) return undefined;
  const [h, m, s] = expiry.split(":").map(Number) as [number, number, number];
  const seconds = h * 3600 + m * 60 + s;
  if (seconds < 5 || seconds > 600) {
    throw new HttpError({ code: "INVALID_REQUEST", message: "smsOptions.expiry: between 00:00:05 and 00:10:00" });
  }
  return seconds;
}
