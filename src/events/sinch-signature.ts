/**
 * Sinch's application-signed requests, the scheme of its Verification and Voice APIs, used both ways: to check a
 * request signed by a Sinch SDK and to sign the callbacks we send. The string to sign is
 * `VERB \n Content-MD5 \n Content-Type \n x-timestamp:<value> \n path`, where Content-MD5 is the base64 MD5 of the
 * UTF-8 body (empty without a body), and the signature is base64 HMAC-SHA256 keyed with the base64 *decoding* of
 * the application secret. The header reads `Authorization: Application <application key>:<signature>`.
 *
 * @example
 * const headers = sinchSignedHeaders(pair, { method: "POST", path: "/callbacks", body, contentType: "application/json" });
 */
import { createHash, createHmac } from "node:crypto";

export interface SignedParts {
  method: string;
  /** the raw body as sent; "" or undefined when there is none */
  body: string | undefined;
  /** the Content-Type header as sent ("" when absent) */
  contentType: string;
  /** the x-timestamp header's value (ISO 8601) */
  timestamp: string;
  /** the request's path, without the query */
  path: string;
}

export function sinchSignature(applicationSecret: string, parts: SignedParts): string {
  const md5 = parts.body ? createHash("md5").update(Buffer.from(parts.body, "utf8")).digest("base64") : "";
  const toSign = `${parts.method.toUpperCase()}\n${md5}\n${parts.contentType}\nx-timestamp:${parts.timestamp}\n${parts.path}`;
  return createHmac("sha256", Buffer.from(applicationSecret, "base64"))
    .update(Buffer.from(toSign, "utf8"))
    .digest("base64");
}

/** The headers of a JSON POST signed with a Sinch credential pair (for callbacks). */
export function sinchSignedHeaders(
  pair: { applicationKey: string; applicationSecret: string },
  request: { path: string; body: string; now: number },
): Record<string, string> {
  const timestamp = new Date(request.now).toISOString();
  const contentType = "application/json";
  const signature = sinchSignature(pair.applicationSecret, {
    method: "POST",
    body: request.body,
    contentType,
    timestamp,
    path: request.path,
  });
  return {
    "content-type": contentType,
    "x-timestamp": timestamp,
    authorization: `Application ${pair.applicationKey}:${signature}`,
  };
}
