/**
 * Who called which number, read from an inbound INVITE in whatever form the trunk writes numbers: `+44...`,
 * `44...` (E.164 without the plus), `0044...` or national (`020...`), in sip: or tel: URIs with visual separators.
 * The dialled number is the Request-URI's user part (the To header's when that is no number of the pool); the
 * caller is the trunk's P-Asserted-Identity, else (none asserted) From. A national caller ID is read in the dialled
 * number's country.
 */
import type { CountryCode } from "libphonenumber-js/max";
import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import type { InboundPool } from "../../core/inbound-pool.js";
import { parseCallerId } from "../../core/phone.js";
import { addressUri, type SipMessage, uriUser } from "../../sip/message.js";

/** The number of the pool the call was made to; null when neither the Request-URI nor To names one. */
export function dialledNumber(
  message: Pick<SipMessage, "uri" | "to">,
  pool: InboundPool,
  country: string,
): string | null {
  for (const uri of [message.uri, addressUri(message.to ?? "")]) {
    for (const candidate of spellings(uriUser(uri), country)) if (pool.has(candidate)) return candidate;
  }
  return null;
}

/**
 * The caller's E.164 number; null when it is withheld (`anonymous`) or not a number. From, which the calling device
 * writes, is read only when the trunk asserts no identity at all: an asserted one that is no number stays none.
 * `country` (for national numbers) may be given as a function: most trunks write E.164, which needs none.
 */
export function callerNumber(
  message: Pick<SipMessage, "assertedIdentities" | "from">,
  country: string | (() => string),
): string | null {
  const asserted = message.assertedIdentities ?? [];
  for (const value of asserted.length > 0 ? asserted : [message.from ?? ""]) {
    const user = uriUser(addressUri(value));
    const [first] = spellings(user, country);
    if (first) return first;
  }
  return null;
}

/** The country a number belongs to, for reading national numbers beside it; ZZ when unknown. */
export function countryOf(e164: string): string {
  return parsePhoneNumberFromString(e164)?.country ?? "ZZ";
}

/** E.164 readings of a user part, most likely first. */
function spellings(user: string, countryOrLookup: string | (() => string)): string[] {
  const compact = user.replace(/[\s().-]/g, "");
  if (!/^\+?[0-9]{4,17}$/.test(compact)) return [];
  if (compact.startsWith("+")) return [compact];
  if (compact.startsWith("00")) return [`+${compact.slice(2)}`];
  const country = typeof countryOrLookup === "string" ? countryOrLookup : countryOrLookup();
  const national = country === "ZZ" ? undefined : parseCallerId(compact, country as CountryCode);
  // National first where it reads as a national number (a leading trunk prefix), else E.164 without its plus.
  const plus = `+${compact}`;
  return national && compact.startsWith("0") ? [national, plus] : [plus, ...(national ? [national] : [])];
}
