/**
 * What a user reports after a flash call, turned into something comparable with the CLI that was used: the full
 * caller ID in any common format, or only its last N digits. Reading happens here; the constant-time comparison
 * happens in `CodeHasher`.
 */
import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import { isAsciiNumberText, parseCallerId, stripSeparators } from "./phone.js";
import type { Verification } from "./types.js";

export interface ReportedCli {
  /** the last N digits */
  code: string;
  /** the rest of the caller ID in E.164 when the full number was given; it must equal the CLI's public prefix */
  prefix: string | null;
}

/**
 * @param input what the user or app sent (`+44 20 7941 2345`, `00442079412345`, `020 7941 2345`, `2345`)
 * @param phoneCountry the destination's country, used to read a national-format caller ID as that phone shows it
 * @returns undefined when the input is not a caller ID or an N-digit code (non-ASCII digits included)
 */
export function readReportedCli(input: string, phoneCountry: string, codeLength: number): ReportedCli | undefined {
  if (!isAsciiNumberText(input)) return undefined;
  const compact = stripSeparators(input);
  if (compact.length === codeLength && /^[0-9]+$/.test(compact)) return { code: compact, prefix: null };
  const e164 = parseCallerId(input, phoneCountry);
  if (e164 === undefined || e164.length - 1 <= codeLength) return undefined;
  return { code: e164.slice(-codeLength), prefix: e164.slice(0, -codeLength) };
}

/**
 * A Sinch-style `cliFilter`: a regular expression an app can run over its call log to spot the flash call, matching
 * the CLI written internationally (`+44`, `0044`, `44`) or nationally (`020...`) with any code digits.
 */
export function cliFilter(prefix: string, codeLength: number): string {
  // A pool has few prefixes and every start and status read needs one: remember them.
  const cacheKey = `${prefix}/${codeLength}`;
  let filter = filters.get(cacheKey);
  if (filter === undefined) {
    if (filters.size >= FILTER_CACHE_LIMIT) filters.clear();
    filter = buildCliFilter(prefix, codeLength);
    filters.set(cacheKey, filter);
  }
  return filter;
}

const FILTER_CACHE_LIMIT = 10_000;
const filters = new Map<string, string>();

function buildCliFilter(prefix: string, codeLength: number): string {
  const sample = parsePhoneNumberFromString(prefix + "0".repeat(codeLength));
  const international = `(?:\\+|00)?${prefix.slice(1)}`;
  if (!sample) return `^${international}\\d{${codeLength}}$`;
  const nationalDigits = stripSeparators(sample.formatNational()).replace(/[^0-9]/g, "");
  const nationalPrefix = nationalDigits.slice(0, nationalDigits.length - codeLength);
  const alternatives = nationalPrefix === prefix.slice(1) ? international : `${international}|${nationalPrefix}`;
  return `^(?:${alternatives})\\d{${codeLength}}$`;
}

/** A message code as typed: its digits, separators allowed, ASCII only; null when it cannot be one. */
export function readOtp(input: string, length: number): string | null {
  const digits = input.replace(/[\s-]/g, "");
  return /^[0-9]+$/.test(digits) && digits.length === length ? digits : null;
}

/**
 * What an attempt's code MAC is keyed by: the attempt, or for a review number's fixed code the verification (so one
 * code serves every attempt of it; see StartPersister.review).
 */
export function macKey(v: Pick<Verification, "id" | "reviewNumberId">, attemptId: string): string {
  return v.reviewNumberId ? v.id : attemptId;
}
