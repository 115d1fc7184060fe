/** One line of the demo's event log for each event of the verification, in words (README "Event catalogue"). */
import type { EventJson } from "../../sdk/src/client.js";

const CHANNELS: Record<string, string> = {
  flashcall: "flash call",
  sms: "SMS",
  whatsapp: "WhatsApp",
  email: "email",
  reverse_flashcall: "reverse flash call",
};
const name = (channel: unknown) => CHANNELS[String(channel)] ?? String(channel);

export function describeEvent(event: Pick<EventJson, "type" | "data">): string | null {
  const d: Record<string, unknown> = event.data;
  const sip = d.sip_code ? ` (SIP ${d.sip_code})` : "";
  switch (event.type) {
    case "verification.started":
      return `started: ${(d.workflow as string[] | undefined)?.map(name).join(", then ") ?? name(d.channel)}`;
    case "attempt.dialing":
      if (d.dial) return `waiting for the phone to call ${d.dial}`;
      return d.pattern ? `calling from ${d.pattern}` : `sending the ${name(d.channel)}`;
    case "attempt.ringing":
      return "the phone rings";
    case "attempt.sent":
      return `the ${name(d.channel)} provider took the message`;
    case "attempt.delivered":
      if (d.reason === "ringing_canceled") return `hung up after ringing: a missed call${sip}`;
      return `${name(d.channel)} delivered${d.reason && d.reason !== "delivered" ? `: ${d.reason}` : ""}${sip}`;
    case "attempt.failed":
      return `${name(d.channel)} failed: ${d.reason}${sip}`;
    case "verification.fallback":
      return `fallback from ${name(d.from_channel)} to ${name(d.to_channel)} (${d.reason})`;
    case "verification.verified":
      return d.channel === "reverse_flashcall" ? `verified: the call came from ${d.caller_id}` : "verified";
    case "verification.failed":
      return `failed: ${d.reason}`;
    case "verification.expired":
      return "expired";
    case "verification.canceled":
      return "canceled";
    case "verification.blocked":
      return `blocked: ${d.reason}`;
    default:
      return event.type;
  }
}
