/**
 * Which numbers a channel may send to: allowed countries, allowed number types (libphonenumber-js `max` metadata),
 * and high-risk prefixes. Pure lookups; the number's type comes from the parse that validated it (src/core/phone.ts).
 */
import type { ChannelName } from "../core/types.js";

/** Types no channel may send to: they cost more than they should, or reach no person's own handset. */
export const ALWAYS_REFUSED_TYPES: ReadonlySet<string> = new Set([
  "PREMIUM_RATE",
  "SHARED_COST",
  "TOLL_FREE",
  "PERSONAL_NUMBER",
  "UAN",
  "VOICEMAIL",
  "PAGER",
  "UNKNOWN",
]);

/**
 * Flash calls by default: MOBILE, and FIXED_LINE_OR_MOBILE, because in the NANP (US, CA, ...) and a few other plans
 * every number has that type: refusing it would refuse those countries entirely. VOIP and FIXED_LINE are refused
 * (an app cannot read a call log there); later channels (SMS, voice) allow VOIP and FIXED_LINE as they see fit.
 */
export const DEFAULT_NUMBER_TYPES: Readonly<Record<ChannelName, readonly string[]>> = {
  flashcall: ["MOBILE", "FIXED_LINE_OR_MOBILE"],
  sms: ["MOBILE", "FIXED_LINE_OR_MOBILE", "VOIP"],
  whatsapp: ["MOBILE", "FIXED_LINE_OR_MOBILE", "VOIP"],
  viber: ["MOBILE", "FIXED_LINE_OR_MOBILE", "VOIP"],
  // An email step still verifies a phone number: any type a person can own.
  email: ["MOBILE", "FIXED_LINE_OR_MOBILE", "VOIP", "FIXED_LINE"],
  // A spoken code reaches whatever answers a call: landlines and VoIP numbers included.
  voice: ["MOBILE", "FIXED_LINE_OR_MOBILE", "VOIP", "FIXED_LINE"],
  // The phone places the call: any number that can call out, its caller ID checked against the trunk's word.
  reverse_flashcall: ["MOBILE", "FIXED_LINE_OR_MOBILE", "VOIP", "FIXED_LINE"],
};

export type NumberRefusal =
  | { code: "COUNTRY_NOT_ALLOWED"; details: { country: string; channel: ChannelName } }
  | { code: "NUMBER_TYPE_NOT_ALLOWED"; details: { number_type: string; channel: ChannelName } }
  | { code: "DESTINATION_BLOCKED"; details: { reason: "high_risk_prefix"; prefix: string } };

/** The longest entry of `prefixes` that `e164` starts with. */
export function matchPrefix(e164: string, prefixes: ReadonlySet<string>): string | undefined {
  for (let end = e164.length; end >= 2; end--) {
    const candidate = e164.slice(0, end);
    if (prefixes.has(candidate)) return candidate;
  }
  return undefined;
}

export interface NumberPolicy {
  /** ISO countries the channel may send to; `*` for any */
  countries: ReadonlySet<string>;
  /** number types the channel may send to (ALWAYS_REFUSED_TYPES are refused whatever this says) */
  types: ReadonlySet<string>;
}

/** Why a number of `type` in `country` may not be sent to on `channel`, or undefined when it may. High-risk prefixes are checked apart. */
export function refuseNumber(
  type: string,
  country: string,
  channel: ChannelName,
  policy: NumberPolicy,
): NumberRefusal | undefined {
  if (!policy.countries.has("*") && !policy.countries.has(country)) {
    return { code: "COUNTRY_NOT_ALLOWED", details: { country, channel } };
  }
  if (ALWAYS_REFUSED_TYPES.has(type) || !policy.types.has(type)) {
    return { code: "NUMBER_TYPE_NOT_ALLOWED", details: { number_type: type, channel } };
  }
  return undefined;
}
