/**
 * The checks `placeCall` makes before anything is sent, shared by `SipUac` and the worker-backed caller so that a
 * bad number or header throws on the caller's own stack in both.
 */
import type { PlaceCallOptions } from "./types.js";

/**
 * Headers the UAC writes itself: a caller-supplied copy would break the transaction (Via, CSeq, Call-ID...), the
 * framing (Content-Length) or authentication, or duplicate an option (`pAssertedIdentity`). Compact forms included.
 */
const MANAGED_HEADERS = new Set([
  "via",
  "v",
  "from",
  "f",
  "to",
  "t",
  "call-id",
  "i",
  "cseq",
  "max-forwards",
  "contact",
  "m",
  "content-length",
  "l",
  "content-type",
  "c",
  "route",
  "record-route",
  "authorization",
  "proxy-authorization",
  "p-asserted-identity",
]);

/** RFC 3261 token (header names). */
const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
/** A URI user part as trunks write numbers: digits, letters, `+`, `*`, `#` (tech prefixes), `-`, `.`, `_`. */
const URI_USER = /^[A-Za-z0-9+*#\-._]{1,64}$/;
/** One header line's value: no CR, LF or other control character but HTAB. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find control characters
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/**
 * Throws unless both numbers are E.164 (they go into the Request-URI and From verbatim), the optional user parts
 * are plain URI users and every extra header is one clean line that the UAC does not write itself.
 * @throws RangeError naming the field
 * @example checkCallOptions({ to: "07400123456", ... }) // RangeError: to is not E.164: "07400123456"
 */
export function checkCallOptions(options: PlaceCallOptions): void {
  if (!isE164(options.to)) throw new RangeError(`to is not E.164: ${JSON.stringify(options.to)}`);
  if (!isE164(options.cli)) throw new RangeError(`cli is not E.164: ${JSON.stringify(options.cli)}`);
  for (const field of ["cliUser", "toUser"] as const) {
    const value = options[field];
    if (value !== undefined && (typeof value !== "string" || !URI_USER.test(value))) {
      throw new RangeError(`${field} is not a URI user part: ${JSON.stringify(value)}`);
    }
  }
  if (options.headers !== undefined) checkHeaders(options.headers);
}

/**
 * Throws unless every header has a token name that the UAC does not manage and a one-line value.
 * @throws RangeError naming the header
 */
export function checkHeaders(headers: ReadonlyArray<readonly [string, string]>): void {
  if (!Array.isArray(headers)) throw new RangeError("headers must be an array of [name, value] pairs");
  for (const header of headers) {
    const [name, value] = Array.isArray(header) ? header : [];
    if (typeof name !== "string" || !TOKEN.test(name)) {
      throw new RangeError(`invalid header name: ${JSON.stringify(name)}`);
    }
    if (MANAGED_HEADERS.has(name.toLowerCase())) {
      throw new RangeError(`header ${name} is written by the UAC and cannot be set`);
    }
    if (typeof value !== "string" || CONTROL.test(value) || value.trim() === "") {
      throw new RangeError(`header ${name} must have a one-line, non-empty value`);
    }
  }
}

/** True when `value` has no CR, LF or other control character but HTAB: it can go into one header line. */
export function isOneLine(value: string): boolean {
  return !CONTROL.test(value);
}

function isE164(value: string): boolean {
  if (typeof value !== "string" || value.length < 2 || value.length > 16 || value[0] !== "+" || value[1] === "0") {
    return false;
  }
  for (let i = 1; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
