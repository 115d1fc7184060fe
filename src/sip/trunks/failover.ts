/**
 * Which call outcomes are the trunk's fault (try the next trunk, count towards its breaker) and which are the
 * destination's answer (any trunk would hear the same: stop there).
 */
import type { CallRecord } from "../types.js";

/**
 * True for a trunk failure: a 5xx (503 and friends) or 408, no response at all (Timer B), a transport error, or a
 * challenge we could not answer. False once the phone rang (the caller ID was shown) and for every answer about the
 * destination: 486 busy, 404 not found, 480 unreachable, 603 declined, 607/608 blocked, no ring in time, answered.
 * @example isTrunkFailure({ reason: "network_error", finalCode: 503, ringingAt: null, ... }) // true
 */
export function isTrunkFailure(record: CallRecord): boolean {
  if (record.ringingAt !== null) return false;
  switch (record.reason) {
    case "network_error": // 5xx, ICMP, socket, connection
    case "timeout": // 408, or nothing at all came back: a provisional would have made it no_answer
    case "auth_failed":
      return true;
    default:
      return false;
  }
}

/** An OPTIONS answer that shows the trunk is up: any final but a server error (501, OPTIONS unsupported, is fine). */
export function isAliveAnswer(status: number | null): boolean {
  return status !== null && (status < 500 || status === 501);
}
