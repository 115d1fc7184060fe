/**
 * The languages messages ship in, and how a verification's language is chosen: the start's `locale` (BCP 47, its
 * primary subtag), else the destination's country, else the application's default, else English. A language we do
 * not ship counts as absent at each step, so `locale: "it-IT"` to a Spanish number gets Spanish.
 */

export const LANGUAGES = ["en", "es", "pt", "fr", "de", "it", "ru", "uk", "hi", "id", "ar"] as const;
export type Language = (typeof LANGUAGES)[number];
export const FALLBACK_LANGUAGE: Language = "en";

/** Languages written right to left (the email's HTML says so with `dir="rtl"`). */
export const RIGHT_TO_LEFT: ReadonlySet<Language> = new Set(["ar"]);

/**
 * The language most of a country's people read a verification message in, where we ship it. Countries with several
 * (CH, BE, CA, IN) get the one most messages there are written in; the start's `locale` overrides it.
 */
const SPOKEN_IN: Readonly<Partial<Record<Language, string>>> = {
  en: "GB US CA AU NZ IE ZA NG KE GH UG ZM ZW JM TT BS BB SG PH MT GG JE IM",
  es: "ES MX AR CO CL PE VE EC GT CU BO DO HN PY SV NI CR PA UY GQ",
  pt: "BR PT AO MZ CV GW ST TL",
  fr: "FR BE LU MC SN CI CM ML BF NE TG BJ GA CG CD MG HT GN",
  de: "DE AT CH LI",
  it: "IT SM VA",
  ru: "RU BY KZ KG",
  uk: "UA",
  hi: "IN",
  id: "ID",
  ar: "SA AE EG IQ JO KW LB LY MA DZ TN OM QA BH SY YE SD PS MR",
};

const COUNTRY_LANGUAGE: ReadonlyMap<string, Language> = new Map(
  Object.entries(SPOKEN_IN).flatMap(([language, countries]) =>
    countries.split(" ").map((country) => [country, language as Language] as const),
  ),
);

export function isLanguage(value: string): value is Language {
  return (LANGUAGES as readonly string[]).includes(value);
}

/** The shipped language of a BCP 47 tag (`pt-BR` -> `pt`), or null. */
export function languageOfLocale(locale: string | null | undefined): Language | null {
  const primary = locale?.split(/[-_]/)[0]?.toLowerCase() ?? "";
  return isLanguage(primary) ? primary : null;
}

export function languageOfCountry(country: string): Language | null {
  return COUNTRY_LANGUAGE.get(country) ?? null;
}

/** The verification's language, and which rule chose it (shown in template previews and kept for support). */
export function chooseLanguage(input: {
  locale: string | null | undefined;
  country: string;
  applicationDefault: Language | null;
}): { language: Language; from: "locale" | "country" | "application" | "fallback" } {
  const byLocale = languageOfLocale(input.locale);
  if (byLocale) return { language: byLocale, from: "locale" };
  const byCountry = languageOfCountry(input.country);
  if (byCountry) return { language: byCountry, from: "country" };
  if (input.applicationDefault) return { language: input.applicationDefault, from: "application" };
  return { language: FALLBACK_LANGUAGE, from: "fallback" };
}
