/**
 * Maps a final response to a CallReason. Kept apart from the transaction code because the mapping is policy
 * (how the verification core reacts: retry, fall back to SMS, give up), not protocol.
 */
import type { CallReason } from "./types.js";

/**
 * The reason for a final response that was not the expected 487 to our CANCEL.
 * @example reasonForFinal(486) // "busy"
 */
export function reasonForFinal(status: number): CallReason {
  if (status < 300) return "answered";
  switch (status) {
    case 486:
    case 600:
      return "busy";
    case 404:
    case 410: // Gone: the number existed and was withdrawn
    case 604:
      return "not_found";
    case 480:
      return "unreachable";
    case 607:
    case 608:
      return "blocked_by_carrier";
    case 401: // a challenge reaches the record only when it could not be answered
    case 407:
      return "auth_failed";
    case 408: // the far end's own no-response timer: same meaning as our Timer B
      return "timeout";
  }
  return status >= 500 && status < 600 ? "network_error" : "rejected";
}
