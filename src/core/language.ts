/**
 * The language a verification is spoken to in, from its destination's country: the country's main language where
 * the voice prompt has it, else null (the channel's default). A country with several languages gets the one most of
 * its numbers answer in.
 *
 * @example spokenLanguage("MX") // "es"
 */

const BY_COUNTRY: Readonly<Record<string, string>> = {
  // Spanish
  ES: "es",
  MX: "es",
  AR: "es",
  CO: "es",
  CL: "es",
  PE: "es",
  VE: "es",
  EC: "es",
  GT: "es",
  CU: "es",
  BO: "es",
  DO: "es",
  HN: "es",
  PY: "es",
  SV: "es",
  NI: "es",
  CR: "es",
  PA: "es",
  UY: "es",
  // Portuguese
  BR: "pt",
  PT: "pt",
  AO: "pt",
  MZ: "pt",
  // French
  FR: "fr",
  SN: "fr",
  CI: "fr",
  CM: "fr",
  MG: "fr",
  ML: "fr",
  BF: "fr",
  NE: "fr",
  MC: "fr",
  // German
  DE: "de",
  AT: "de",
  LI: "de",
  // Italian
  IT: "it",
  SM: "it",
  // Russian
  RU: "ru",
  BY: "ru",
  KZ: "ru",
  KG: "ru",
  // English
  GB: "en",
  US: "en",
  CA: "en",
  AU: "en",
  NZ: "en",
  IE: "en",
  ZA: "en",
  NG: "en",
  GH: "en",
  KE: "en",
};

/** ISO 639-1 code for an ISO 3166-1 alpha-2 country, or null when the country has none here. */
export function spokenLanguage(country: string): string | null {
  return BY_COUNTRY[country] ?? null;
}
