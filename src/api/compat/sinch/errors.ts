/**
 * Errors in Sinch's shape: `{ status, errorCode, message, reference }`, with the HTTP status of our error table. Sinch's
 * error codes are the HTTP status followed by two digits (40001 parameter validation, 40100 authorization, 40400
 * not found, ...): each of our codes maps to the one of its status; `reference` is our request id, for support.
 */
import { STATUS_CODES } from "node:http";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { z } from "zod";
import { type AppError, ERRORS } from "../../../core/errors.js";
import { HttpError } from "../../errors.js";

export const SinchErrorView = z.object({
  status: z.string().describe('the HTTP status and its name, as Sinch writes it ("404 Not Found")'),
  errorCode: z.number().int().describe("Sinch's code: the HTTP status and two digits (40001, 40100, 40400, ...)"),
  message: z.string(),
  reference: z.string().describe("the request id, for support"),
});

/** Sinch's codes where they name more than the status. */
const SINCH_CODES: Partial<Record<AppError["code"], number>> = {
  INVALID_REQUEST: 40001,
  INVALID_PHONE_NUMBER: 40001,
  INVALID_CODE_FORMAT: 40001,
  CHANNEL_NOT_CONFIGURED: 40003,
};

export function sinchErrorCode(error: AppError): number {
  return SINCH_CODES[error.code] ?? ERRORS[error.code].status * 100;
}

export function sendSinchError(reply: FastifyReply, error: AppError): FastifyReply {
  const entry = ERRORS[error.code];
  if (error.retryAfterSeconds !== undefined) reply.header("retry-after", String(error.retryAfterSeconds));
  return reply
    .code(entry.status)
    .type("application/json")
    .send({
      status: `${entry.status} ${STATUS_CODES[entry.status] ?? ""}`.trim(),
      errorCode: sinchErrorCode(error),
      message: error.message ?? entry.message,
      reference: String(reply.request.id),
    });
}

const FASTIFY_CODES: Record<string, AppError["code"]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "INVALID_REQUEST",
};

/** The error handler of the Sinch routes: the same decisions as the API's own, in Sinch's shape. */
export function sinchErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof HttpError) return sendSinchError(reply, error.appError);
  if (hasZodFastifySchemaValidationErrors(error)) {
    const message = error.validation
      .slice(0, 5)
      .map((issue) => {
        const path = issue.instancePath.replace(/^\//, "").replaceAll("/", ".");
        return `${error.validationContext ?? "body"}${path ? `.${path}` : ""}: ${issue.message}`;
      })
      .join("; ");
    return sendSinchError(reply, { code: "INVALID_REQUEST", message });
  }
  const mapped = error.code ? FASTIFY_CODES[error.code] : undefined;
  if (mapped) return sendSinchError(reply, { code: mapped });
  request.log.error({ err: error }, "unhandled error");
  return sendSinchError(reply, { code: "INTERNAL" });
}
