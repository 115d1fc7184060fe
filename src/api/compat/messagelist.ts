/**
 * POST /bat/messagelist: the message-list API of the flash-call provider docs, translated into verifications and
 * nothing else. Each message (with its `fallbacks`) becomes one verification whose workflow is the message's type
 * followed by its fallbacks' types; its `messageId` is the verification id, checked with
 * POST /v1/verifications/{messageId}/check.
 *
 * Deviations from the provider's docs, on purpose:
 * - `pattern` and `callerId` are masked (`+44207941****`): the provider's example shows the code digits there,
 *   which would hand the code to whoever reads the response before the call arrives.
 * - The caller ID comes from our pool, so `messageData.callerId` is not honoured; `from` and `text` are not used
 *   either (the SMS sender is SMS_SENDER, the text OTP_TEMPLATE, so that only the server knows the code).
 * - A fallback's `to` must be the message's own: one verification proves one number (a request that names
 *   another is refused whole, with nothing sent).
 * - `viber_otp` is our Viber channel (the text is our template, as for SMS); where Viber is not configured the start
 *   is refused like any workflow naming an unconfigured channel.
 */
import { z } from "zod";
import { ERRORS } from "../../core/errors.js";
import { newId } from "../../core/ids.js";
import { parseDestination } from "../../core/phone.js";
import { maskedPattern } from "../../core/pool.js";
import type { ChannelName } from "../../core/types.js";
import { HttpError } from "../errors.js";
import type { RouteRegistration } from "../route-kit.js";
import { admitStart, startOptions } from "../start-gate.js";
import { ErrorView } from "../views.js";

const MAX_FLASHCALL_TTL = 120;

const Step = z
  .object({
    from: z.string().max(64).optional(),
    to: z.string().min(1).max(64),
    type: z.enum(["flashcall", "sms", "viber_otp"]),
    text: z.string().max(1000).optional(),
    ttl: z.number().int().min(10).max(600).optional().describe("seconds; a flash call's at most 120"),
    messageData: z.object({ callerId: z.string().max(32).optional() }).optional(),
  })
  .superRefine((step, ctx) => {
    if (step.type === "flashcall" && step.ttl !== undefined && step.ttl > MAX_FLASHCALL_TTL) {
      ctx.addIssue({
        code: "custom",
        path: ["ttl"],
        message: `a flash call's ttl is at most ${MAX_FLASHCALL_TTL} seconds (its code's lifetime)`,
      });
    }
  });

/** The provider's `to` as our API reads it: its examples write E.164's digits without the plus (00 stays 00). */
const e164Of = (to: string) => (/^[1-9]\d*$/.test(to) ? `+${to}` : to);

const Message = Step.and(z.object({ fallbacks: z.array(Step).max(4).optional() })).superRefine((message, ctx) => {
  // One verification proves one number: a fallback to another would send its code to the message's number instead.
  const number = parseDestination(e164Of(message.to))?.e164 ?? e164Of(message.to);
  for (const [i, fallback] of (message.fallbacks ?? []).entries()) {
    if ((parseDestination(e164Of(fallback.to))?.e164 ?? e164Of(fallback.to)) !== number) {
      ctx.addIssue({
        code: "custom",
        path: ["fallbacks", i, "to"],
        message: "a fallback goes to the message's own number (one verification proves one number)",
      });
    }
  }
});

const Body = z.object({ messages: z.array(Message).min(1).max(100) });

const Answer = z.object({
  messagelistId: z.string(),
  messages: z.array(
    z.object({
      messageId: z.string().nullable(),
      status: z.enum(["accepted", "rejected"]),
      callerId: z.string().nullable().describe("masked: the code digits are never shown"),
      pattern: z.string().nullable().describe("masked: the code digits are never shown"),
      to: z.string(),
      ttl: z.number().int(),
      error: z.object({ code: z.string(), message: z.string() }).optional(),
    }),
  ),
});

const CHANNEL: Record<z.infer<typeof Step>["type"], ChannelName> = {
  flashcall: "flashcall",
  sms: "sms",
  viber_otp: "viber",
};

export const registerMessagelist: RouteRegistration = (app, services) => {
  app.post(
    "/bat/messagelist",
    {
      onRequest: async (request) => {
        const key = request.headers["x-authorization-key"];
        const applicationId =
          typeof key === "string" && key.length <= 512 ? await services.apiKeys.resolve(key) : undefined;
        if (!applicationId) throw new HttpError({ code: "UNAUTHORIZED" });
        request.access = { kind: "application", applicationId };
      },
      schema: {
        summary: "Send flash calls with fallbacks (the flash-call provider's message-list API)",
        tags: ["compat"],
        headers: z.object({ "x-authorization-key": z.string().max(512) }),
        body: Body,
        response: { 200: Answer, 400: ErrorView, 401: ErrorView, 413: ErrorView, 503: ErrorView },
      },
    },
    async (request, reply) => {
      admitStart(services, request, reply);
      // Each message's start is counted against the request's address, as POST /v1/verifications counts its own.
      const options = startOptions(services, request);
      const applicationId = (request.access as { applicationId: string }).applicationId;
      const answers = [];
      for (const message of request.body.messages) {
        const steps = [message, ...(message.fallbacks ?? [])];
        const to = e164Of(message.to);
        const ttl = message.ttl ?? (message.type === "flashcall" ? services.config.FLASHCALL_TTL_SECONDS : 120);
        const workflow = steps.map((step) => ({ channel: CHANNEL[step.type], timeout: step.ttl }));
        const started = await services.verifications.start(applicationId, { phone: to, workflow }, options);
        if (!started.ok) {
          const { code, message: text } = started.error;
          answers.push(rejected(message.to, ttl, code, text ?? ERRORS[code].message));
          continue;
        }
        const v = started.value.verification;
        const attempt = v.attempts.at(-1);
        const pattern = attempt?.cliPrefix ? maskedPattern(attempt.cliPrefix, attempt.codeLength) : null;
        answers.push({ messageId: v.id, status: "accepted" as const, callerId: pattern, pattern, to: message.to, ttl });
      }
      return { messagelistId: newId("mls", services.clock.now()), messages: answers };
    },
  );
};

function rejected(to: string, ttl: number, code: string, message: string) {
  return {
    messageId: null,
    status: "rejected" as const,
    callerId: null,
    pattern: null,
    to,
    ttl,
    error: { code, message },
  };
}
