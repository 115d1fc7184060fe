/**
 * When a failed webhook delivery is tried again: after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h
 * (each with ±20% jitter so that a recovering endpoint is not hit by every delivery at once), then never. A
 * `Retry-After` on 429/503 replaces the schedule's delay for that retry (capped at 24 h).
 */
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

export const RETRY_DELAYS_MS: readonly number[] = [
  5 * SECOND,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
  14 * HOUR,
  20 * HOUR,
  24 * HOUR,
];
export const JITTER = 0.2;
const MAX_RETRY_AFTER_MS = 24 * HOUR;

/**
 * The time of the next attempt after `attemptsMade` failed ones, or null when the schedule is spent.
 * @param random a number in [0, 1): Math.random in production, fixed in tests
 */
export function nextRetryAt(
  attemptsMade: number,
  now: number,
  random: number,
  retryAfterMs?: number | undefined,
): number | null {
  const delay = RETRY_DELAYS_MS[attemptsMade - 1];
  if (delay === undefined) return null;
  if (retryAfterMs !== undefined) return now + Math.min(retryAfterMs, MAX_RETRY_AFTER_MS);
  return now + Math.round(delay * (1 - JITTER + 2 * JITTER * random));
}

/** A Retry-After header (seconds, or an HTTP date) as milliseconds from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | undefined, now: number): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * SECOND;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
