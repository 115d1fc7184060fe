/** Turns the core's error values and Fastify's own errors into the one error shape of the API. */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { type AppError, ERRORS, type ErrorCode } from "../core/errors.js";
import type { Outage } from "../storage/outage.js";

export interface ErrorBody {
  error: { code: ErrorCode; message: string; request_id: string; details?: Readonly<Record<string, unknown>> };
}

declare module "fastify" {
  interface FastifyReply {
    /** the error code this reply answers with, for the request's log line */
    errorCode: ErrorCode | null;
  }
}

export function sendError(reply: FastifyReply, error: AppError): FastifyReply {
  const entry = ERRORS[error.code];
  reply.errorCode = error.code;
  const body: ErrorBody = {
    error: { code: error.code, message: error.message ?? entry.message, request_id: String(reply.request.id) },
  };
  if (error.details !== undefined) body.error.details = error.details;
  if (error.retryAfterSeconds !== undefined) reply.header("retry-after", String(error.retryAfterSeconds));
  return reply.code(entry.status).type("application/json").send(body);
}

/** Thrown by route helpers to leave a handler with an API error. */
export class HttpError extends Error {
  constructor(readonly appError: AppError) {
    super(appError.message ?? ERRORS[appError.code].message);
  }
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "INVALID_REQUEST",
  FST_ERR_CTP_EMPTY_JSON_BODY: "INVALID_REQUEST",
  FST_ERR_CTP_INVALID_JSON_BODY: "INVALID_REQUEST",
};

/** Retry-After of a request refused because the database or Redis cannot be reached: their probes run twice a second. */
const UNREACHABLE_RETRY_AFTER_S = 1;

/**
 * The error handler of the app. A failure because the database or Redis cannot be reached is that outage's (503
 * with Retry-After, counted, logged once by the outage), not an internal error logged per request.
 */
export function errorHandlerFor(outages: { store: Outage; redis: Outage | null }) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    if (outages.store.note(error, "request")) {
      return sendError(reply, { code: "STORE_UNAVAILABLE", retryAfterSeconds: UNREACHABLE_RETRY_AFTER_S });
    }
    if (outages.redis?.note(error, "request")) {
      return sendError(reply, { code: "FRAUD_CHECK_UNAVAILABLE", retryAfterSeconds: UNREACHABLE_RETRY_AFTER_S });
    }
    return errorHandler(error, request, reply);
  };
}

export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof HttpError) return sendError(reply, error.appError);
  if (hasZodFastifySchemaValidationErrors(error)) {
    const details = error.validation
      .slice(0, 5)
      .map((issue) => {
        const path = issue.instancePath.replace(/^\//, "").replaceAll("/", ".");
        return `${error.validationContext ?? "body"}${path ? `.${path}` : ""}: ${issue.message}`;
      })
      .join("; ");
    return sendError(reply, { code: "INVALID_REQUEST", message: details });
  }
  const mapped = error.code ? FASTIFY_CODES[error.code] : undefined;
  if (mapped) return sendError(reply, { code: mapped });
  if (error instanceof SyntaxError || (error.statusCode !== undefined && error.statusCode === 400)) {
    return sendError(reply, { code: "INVALID_REQUEST", message: "The body is not valid JSON." });
  }
  request.log.error({ err: error }, "unhandled error");
  return sendError(reply, { code: "INTERNAL" });
}
