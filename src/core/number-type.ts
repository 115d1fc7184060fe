/**
 * The type of a stored verification's number (mobile, fixed line, VoIP, ...) from libphonenumber-js's `max`
 * metadata, for the workflow to skip later steps the number cannot take (a new request's number has its type from
 * parseDestination). Cached (bounded): a verification moves on more than once.
 */
import { parsePhoneNumberFromString } from "libphonenumber-js/max";

const TYPE_CACHE_LIMIT = 100_000;
const typeCache = new Map<string, string>();

/** libphonenumber's type of an E.164 number ("MOBILE", "FIXED_LINE_OR_MOBILE", "VOIP", ...), `UNKNOWN` when none. */
export function numberType(e164: string): string {
  let type = typeCache.get(e164);
  if (type === undefined) {
    type = parsePhoneNumberFromString(e164)?.getType() ?? "UNKNOWN";
    if (typeCache.size >= TYPE_CACHE_LIMIT) typeCache.clear();
    typeCache.set(e164, type);
  }
  return type;
}
