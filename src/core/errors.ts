/**
 * Every error a client can see comes from this one table: a stable UPPER_SNAKE code, its HTTP status and a
 * message. The core returns these as values (`Result`); only the HTTP edge turns them into responses.
 */
export const ERRORS = {
  INVALID_REQUEST: { status: 400, message: "The request is malformed or fails validation." },
  INVALID_PHONE_NUMBER: { status: 400, message: "The phone number cannot be read as a valid E.164 number." },
  INVALID_CODE_FORMAT: {
    status: 400,
    message: "Send the caller ID of the missed call (any common format) or its last digits, in ASCII digits.",
  },
  UNAUTHORIZED: { status: 401, message: "Missing or invalid credentials." },
  FORBIDDEN: { status: 403, message: "These credentials may not perform this operation." },
  NOT_FOUND: { status: 404, message: "No such resource." },
  VERIFICATION_NOT_FOUND: { status: 404, message: "No such verification." },
  ALREADY_VERIFIED: { status: 409, message: "The verification has already been used." },
  VERIFICATION_NOT_PENDING: { status: 409, message: "The verification has already ended." },
  IDEMPOTENCY_CONFLICT: { status: 409, message: "The Idempotency-Key was used with a different request." },
  PAYLOAD_TOO_LARGE: { status: 413, message: "The request body is larger than 16 KiB." },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: "Send the body as application/json." },
  NO_POOL_FOR_DESTINATION: { status: 422, message: "No caller-ID pool serves this destination." },
  RATE_LIMITED: { status: 429, message: "Too many requests." },
  INTERNAL: { status: 500, message: "Internal error." },
  POOL_EXHAUSTED: { status: 503, message: "Every caller ID of the pool is in use; try again shortly." },
  NOT_READY: { status: 503, message: "The service is not ready." },
  OVERLOADED: { status: 503, message: "The server is at capacity; retry after the time in Retry-After." },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export interface AppError {
  readonly code: ErrorCode;
  /** Overrides the table's message with a more specific one (never with secrets). */
  readonly message?: string;
  /** sent as Retry-After on 429 and 503 answers */
  readonly retryAfterSeconds?: number;
}

export type Result<T, E = AppError> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const err = (code: ErrorCode, message?: string): Result<never, AppError> => ({
  ok: false,
  error: message === undefined ? { code } : { code, message },
});
