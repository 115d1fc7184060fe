/**
 * An error the CLI reports as one line and a non-zero exit: a refused API call or a server it cannot reach is
 * something to act on, not a program fault, so it gets no stack trace.
 */
export class CliError extends Error {
  override readonly name = "CliError";

  /** `POST /v1/verifications: 422 GUESS_PROBABILITY_TOO_HIGH: <the API's message>` from an error answer. */
  static fromApi(request: string, status: number, body: Record<string, unknown>): CliError {
    const error = body.error as { code?: unknown; message?: unknown } | undefined;
    const code = typeof error?.code === "string" ? error.code : "HTTP_ERROR";
    const message = typeof error?.message === "string" ? error.message : "no error message in the answer";
    return new CliError(`${request}: ${status} ${code}: ${message}`);
  }
}
