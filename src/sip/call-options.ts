/**
 * The checks `placeCall` makes before anything is sent, shared by `SipUac` and the worker-backed caller so that a
 * bad number throws on the caller's own stack in both.
 */
import type { PlaceCallOptions } from "./types.js";

/**
 * Throws unless both numbers are E.164 (they go into the Request-URI and From verbatim).
 * @throws RangeError naming the field
 * @example checkCallOptions({ to: "07400123456", ... }) // RangeError: to is not E.164: "07400123456"
 */
export function checkCallOptions(options: PlaceCallOptions): void {
  if (!isE164(options.to)) throw new RangeError(`to is not E.164: ${JSON.stringify(options.to)}`);
  if (!isE164(options.cli)) throw new RangeError(`cli is not E.164: ${JSON.stringify(options.cli)}`);
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
