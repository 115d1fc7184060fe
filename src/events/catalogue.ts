/**
 * The public shape of events, the same in webhooks, SSE and `/v1/events`:
 *
 *   { "id": "evt_...", "type": "attempt.ringing", "timestamp": "2026-11-22T12:00:01.042Z",
 *     "data": { "verification_id": "ver_...", "attempt_id": "att_...", ...fields of the type } }
 *
 * `EVENT_FIELDS` lists each type's own fields; they are written by the core (src/core/verification.ts) and are
 * stable. No event carries a code, and only `verification.verified` carries a caller ID (the one that verified).
 */
import type { StoredEvent } from "../core/ports.js";
import type { EventType } from "../core/types.js";

export const EVENT_FIELDS: Record<EventType, string> = {
  "verification.started":
    "phone, country, channel (the first step's), workflow (the channels, in order), expires_at, risk (the fraud outcome; never shown to client tokens), channel_choice (workflow auto: why these channels; never shown to client tokens), review (true for an application's review number: nothing is sent)",
  "verification.fallback":
    "from_channel, to_channel, reason (attempt_failed | step_timeout | requested | number_type | no_email | no_inbound_number)",
  "verification.blocked":
    "reason (denied_by_application | SUSPECTED_PUMPING, with rule_id, scope, value, shadow, blocked_until, sends, verified, conversion); nothing was sent",
  "verification.verified":
    "channel (the step's that verified), caller_id (the caller ID that verified; flash calls and reverse flash calls)",
  "verification.failed":
    "reason (max_checks | attempt_failed | denied_by_application), channel (the last step's; null when none was sent), attempt_reason",
  "verification.expired": "reason (ttl), channel (the last step's)",
  "verification.canceled": "reason (canceled_by_api), channel (the last step's)",
  "attempt.dialing":
    "channel, seq, and pattern (flash call: the caller ID with its code digits masked), dial (reverse flash call: the number to call) or code_length (messages)",
  "attempt.ringing": "channel",
  "attempt.sent": "channel, provider_ids (a message provider accepted the message)",
  "attempt.delivered":
    "channel, reason (ringing_canceled | answered | delivered | interrupted | review_number ...), sip_code, detail",
  "attempt.failed":
    "channel, reason (busy | not_found | timeout | rejected | undeliverable | interrupted | shadow_blocked | verification_ended ...), sip_code, detail",
  "attempt.reported":
    "channel, outcome (received | late | not_received), source (intercept | call_log | manual), and replaces, replaces_at (the earlier report it replaces, if any): what the phone saw of the call; it verifies nothing",
};

export const EVENT_TYPES = Object.keys(EVENT_FIELDS) as EventType[];

/** The events after which a verification has nothing more to say to its waiting screen. */
export const FINAL_EVENT_TYPES: ReadonlySet<EventType> = new Set([
  "verification.verified",
  "verification.failed",
  "verification.expired",
  "verification.canceled",
  "verification.blocked",
]);

export interface PublicEvent {
  id: string;
  type: EventType;
  timestamp: string;
  data: { verification_id: string; attempt_id: string | null } & Record<string, unknown>;
}

/** Fields only the application sees: the app or browser holding a client token may be the attacker scored. */
const BACKEND_ONLY_FIELDS = ["risk", "channel_choice"];

/** The public JSON of an event; `forClient` leaves out what a client token may not read (the risk outcome). */
export function publicEvent(e: StoredEvent, forClient = false): PublicEvent {
  const data: PublicEvent["data"] = { verification_id: e.verificationId, attempt_id: e.attemptId, ...e.data };
  if (forClient) for (const field of BACKEND_ONLY_FIELDS) delete data[field];
  return { id: e.id, type: e.type, timestamp: new Date(e.at).toISOString(), data };
}
