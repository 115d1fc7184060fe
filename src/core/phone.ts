/**
 * Phone numbers in, E.164 out. Uses libphonenumber-js with its `max` metadata: the default metadata cannot tell
 * number types for several countries (RU, DE, BR, IE), and later policies depend on the type.
 * Only ASCII digits and the usual separators are accepted: libphonenumber would silently convert other Unicode
 * digits, which would let one number be spelled in many ways.
 */
import { type CountryCode, parsePhoneNumberFromString } from "libphonenumber-js/max";

const ALLOWED = /^[0-9+\-().\s]+$/;
const SEPARATORS = /[\s\-().]/g;

export interface ParsedPhone {
  /** E.164, e.g. `+447400123456` */
  e164: string;
  /** ISO 3166-1 alpha-2 of the number's region, or `ZZ` when only the calling code is known */
  country: string;
  /** libphonenumber's type (`MOBILE`, `FIXED_LINE_OR_MOBILE`, `VOIP`, ...), `UNKNOWN` when it has none */
  type: string;
}

/**
 * Parses a destination number written internationally (`+44...` or `0044...`), or nationally (`07400...`) when the
 * caller names the country, with any common separators. Every spelling of one number gives the same E.164, which is
 * what rate limits and blocks key on.
 */
export function parseDestination(input: string, countryHint?: string): ParsedPhone | undefined {
  if (input.length > 40 || !ALLOWED.test(input)) return undefined;
  let compact = input.replace(SEPARATORS, "");
  if (compact.startsWith("00")) compact = `+${compact.slice(2)}`;
  if (!compact.startsWith("+") && countryHint !== undefined && /^[A-Z]{2}$/.test(countryHint)) {
    if (!/^[0-9]{4,17}$/.test(compact)) return undefined;
    const national = parsePhoneNumberFromString(compact, countryHint as CountryCode);
    if (!national?.isValid()) return undefined;
    compact = national.number;
  }
  if (!/^\+[1-9][0-9]{5,14}$/.test(compact)) return undefined;
  const parsed = parsePhoneNumberFromString(compact);
  if (!parsed) return undefined;
  // The type is read here, from the number already parsed: parsing again costs eight times as much. With `max`
  // metadata, validity is "some type matches" wherever the region has type data, so a number with a type is
  // valid and only one without needs isValid() (which then checks the region's general pattern): one pass over
  // the type patterns instead of two.
  const type = parsed.getType();
  if (type === undefined && !parsed.isValid()) return undefined;
  return { e164: parsed.number, country: parsed.country ?? "ZZ", type: type ?? "UNKNOWN" };
}

/**
 * Reads a caller ID as a phone shows it in its call log: international (`+44...`, `0044...`) or national in the
 * phone's own country (`020 7946 0123` on a UK phone). Returns E.164, or undefined when it is not a number.
 * Validity is not required: a caller ID only has to be a possible number to be compared.
 */
export function parseCallerId(input: string, phoneCountry: string): string | undefined {
  if (input.length > 40 || !ALLOWED.test(input)) return undefined;
  let compact = input.replace(SEPARATORS, "");
  if (compact.startsWith("00")) compact = `+${compact.slice(2)}`;
  if (compact.startsWith("+")) {
    if (!/^\+[1-9][0-9]{5,14}$/.test(compact)) return undefined;
    return parsePhoneNumberFromString(compact)?.number;
  }
  if (!/^[0-9]{4,17}$/.test(compact) || phoneCountry === "ZZ") return undefined;
  const parsed = parsePhoneNumberFromString(compact, phoneCountry as CountryCode);
  return parsed?.isPossible() ? parsed.number : undefined;
}

/** True for the characters a code or caller ID may contain: ASCII digits and separators only. */
export function isAsciiNumberText(input: string): boolean {
  return ALLOWED.test(input);
}

export function stripSeparators(input: string): string {
  return input.replace(SEPARATORS, "");
}
