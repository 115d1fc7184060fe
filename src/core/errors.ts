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
  WEBHOOK_ENDPOINT_NOT_FOUND: { status: 404, message: "No such webhook endpoint." },
  WEBHOOK_DELIVERY_NOT_FOUND: { status: 404, message: "No such webhook delivery." },
  EVENT_NOT_FOUND: { status: 404, message: "No such event." },
  API_KEY_NOT_FOUND: { status: 404, message: "No such working API key in this application." },
  POOL_NOT_FOUND: { status: 404, message: "No such caller-ID pool." },
  DECISION_CALLBACK_NOT_FOUND: { status: 404, message: "The application has no decision callback." },
  NO_CODE_TO_CHECK: {
    status: 409,
    message:
      "The step under way is a reverse flash call: the phone calls the number shown, and there is no code to check.",
  },
  REVIEW_NUMBER_NOT_FOUND: { status: 404, message: "The application has no such active review number." },
  ALREADY_VERIFIED: { status: 409, message: "The verification has already been used." },
  VERIFICATION_NOT_PENDING: { status: 409, message: "The verification has already ended." },
  NO_NEXT_STEP: {
    status: 409,
    message: "The workflow has no further step for this verification (or it reached its limit of attempts).",
  },
  NOTHING_TO_REPORT: {
    status: 409,
    message: "The verification has placed no flash call that a delivery report could be about.",
  },
  REVIEW_NUMBER_EXISTS: {
    status: 409,
    message: "The application already has an active review number for this phone; remove it first.",
  },
  IDEMPOTENCY_CONFLICT: { status: 409, message: "The Idempotency-Key was used with a different request." },
  PAYLOAD_TOO_LARGE: { status: 413, message: "The request body is larger than 16 KiB." },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: "Send the body as application/json." },
  NO_POOL_FOR_DESTINATION: { status: 422, message: "No caller-ID pool serves this destination." },
  INVALID_WORKFLOW: { status: 422, message: "The workflow cannot be run as given." },
  INVALID_TEMPLATE: {
    status: 422,
    message: "The template cannot be used as given; details.problems lists each field and why.",
  },
  INVALID_REVIEW_NUMBER: {
    status: 422,
    message: "The review number cannot be used as given; details.problems lists each field and why.",
  },
  INVALID_POOL: { status: 422, message: "The pool cannot be used as given; the message says why." },
  CHANNEL_NOT_CONFIGURED: { status: 422, message: "A channel of the workflow is not configured on this server." },
  NO_REACHABLE_CHANNEL: {
    status: 422,
    message:
      "No step of the workflow can reach this destination (a flash call needs a mobile number; email needs an address).",
  },
  URL_NOT_ALLOWED: {
    status: 422,
    message:
      "The URL must be http(s) and must not point at an address class the server refuses to call (private, " +
      "loopback, ...). In development, WEBHOOK_ALLOW_PRIVATE=loopback,private on the server allows them.",
  },
  RATE_LIMITED: {
    status: 429,
    message: "Too many requests; details.limit names the limit, Retry-After when to retry.",
  },
  SPEND_CAP_REACHED: { status: 429, message: "The daily spend cap is reached; details.budget names it." },
  TOO_MANY_STREAMS: {
    status: 429,
    message: "Too many event streams are open; details.limit names the cap (process, application or verification).",
  },
  SUSPECTED_PUMPING: {
    status: 403,
    message: "Sends to this destination are blocked: its conversion suggests artificially inflated traffic.",
  },
  DESTINATION_BLOCKED: { status: 403, message: "Sends to this number or prefix are blocked; details.reason says why." },
  COUNTRY_NOT_ALLOWED: { status: 403, message: "This channel may not send to the number's country." },
  NUMBER_TYPE_NOT_ALLOWED: { status: 422, message: "This channel may not send to this type of number." },
  VERIFICATION_BLOCKED: {
    status: 403,
    message: "The fraud controls blocked this verification; details.reasons says why.",
  },
  GUESS_PROBABILITY_TOO_HIGH: {
    status: 422,
    message: "The pool for this destination is too small: a guess would succeed too often.",
  },
  FRAUD_CHECK_UNAVAILABLE: { status: 503, message: "The fraud controls cannot decide right now; nothing was sent." },
  INTERNAL: { status: 500, message: "Internal error." },
  NO_INBOUND_NUMBER: {
    status: 503,
    message: "No number of the inbound pool is free for this phone's reverse flash call; try again shortly.",
  },
  POOL_EXHAUSTED: { status: 503, message: "Every caller ID of the pool is in use; try again shortly." },
  NOT_READY: { status: 503, message: "The service is not ready." },
  STORE_UNAVAILABLE: {
    status: 503,
    message: "The database cannot be reached right now; retry after the time in Retry-After.",
  },
  PAGE_NOT_BUILT: { status: 503, message: "The web pages are not built: run npm run build (npm start does)." },
  SHUTTING_DOWN: { status: 503, message: "This server is shutting down; send requests to another." },
  OVERLOADED: { status: 503, message: "The server is at capacity; retry after the time in Retry-After." },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export interface AppError {
  readonly code: ErrorCode;
  /** Overrides the table's message with a more specific one (never with secrets). */
  readonly message?: string;
  /** sent as Retry-After on 429 and 503 answers */
  readonly retryAfterSeconds?: number;
  /** machine-readable specifics, e.g. `{ limit: "destination" }` (never secrets) */
  readonly details?: Readonly<Record<string, unknown>>;
}

export type Result<T, E = AppError> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const err = (code: ErrorCode, message?: string): Result<never, AppError> => ({
  ok: false,
  error: message === undefined ? { code } : { code, message },
});

/** An error with its specifics (`details`) and, for 429/503, a Retry-After. */
export const errWith = (
  code: ErrorCode,
  details: Record<string, unknown>,
  retryAfterSeconds?: number,
): Result<never, AppError> => ({
  ok: false,
  error: retryAfterSeconds === undefined ? { code, details } : { code, details, retryAfterSeconds },
});
