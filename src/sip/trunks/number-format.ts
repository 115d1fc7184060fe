/**
 * How a trunk wants numbers written in the user part of its URIs: E.164 with "+", without it, or national
 * (the country's trunk prefix and national number, e.g. 02079412345), optionally behind a tech prefix.
 */
import { parsePhoneNumberFromString } from "libphonenumber-js/max";

export type NumberFormat = "e164" | "e164_no_plus" | "national";

/**
 * @param e164 "+442079412345"
 * @example formatNumber("+442079412345", "national", "99#") // "99#02079412345"
 */
export function formatNumber(e164: string, format: NumberFormat, techPrefix = ""): string {
  switch (format) {
    case "e164":
      return techPrefix + e164;
    case "e164_no_plus":
      return techPrefix + e164.slice(1);
    case "national":
      return techPrefix + nationalDigits(e164);
  }
}

/** The national form as dialled inside the country, digits only; E.164 digits when the number has none. */
function nationalDigits(e164: string): string {
  const parsed = parsePhoneNumberFromString(e164);
  if (!parsed) return e164.slice(1);
  return parsed.format("NATIONAL").replace(/\D/g, "");
}
