/**
 * Matching a caller ID against the pattern a verification shows (`+44207941****`): what an Android or React Native
 * app does after reading the call log, before it reports the number. Pure and dependency-free. The server decides;
 * this only tells the app which missed call is ours, and what its last digits are.
 */

/** Digits of a number as a call log may show it: `+44 20 7941 2345`, `0044…`, or national `020 7941 2345`. */
function digitsOf(callerId: string): { digits: string; international: boolean } | null {
  if (!/^[0-9+\-().\s]+$/.test(callerId)) return null;
  const compact = callerId.replace(/[\s\-().]/g, "");
  if (compact.startsWith("+")) return { digits: compact.slice(1), international: true };
  if (compact.startsWith("00")) return { digits: compact.slice(2), international: true };
  return /^\d+$/.test(compact) ? { digits: compact, international: false } : null;
}

/**
 * The code (the masked digits) when `callerId` is the number `pattern` describes, else null. A national caller ID
 * (`020 7941 2345` for `+44207941****`) matches when it is the pattern's number without its country code and with a
 * trunk prefix `0` (or none), which covers the call logs of most countries.
 *
 * @example
 * codeFromCallerId("+44 20 7941 2345", "+44207941****"); // "2345"
 * codeFromCallerId("020 7941 2345", "+44207941****");    // "2345"
 */
export function codeFromCallerId(callerId: string, pattern: string): string | null {
  const match = /^\+(\d+)(\*+)$/.exec(pattern);
  const caller = digitsOf(callerId);
  if (!match || !caller) return null;
  const prefix = match[1] as string;
  const codeLength = (match[2] as string).length;
  const code = caller.digits.slice(-codeLength);
  const head = caller.digits.slice(0, -codeLength);
  if (caller.digits.length <= codeLength) return null;
  if (caller.international) return head === prefix ? code : null;
  const national = head.startsWith("0") ? head.slice(1) : head;
  // Country codes are one to three digits: the national part is the pattern's prefix after one of them.
  for (let cc = 1; cc <= 3; cc++) {
    if (prefix.slice(cc) === national && national.length > 0) return code;
  }
  return null;
}

/** True when `callerId` is the number `pattern` describes (see `codeFromCallerId`). */
export function matchesPattern(callerId: string, pattern: string): boolean {
  return codeFromCallerId(callerId, pattern) !== null;
}
