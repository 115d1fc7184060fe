/**
 * Our verifications in Sinch's words, for the Sinch-compatible API and its callbacks alike: its method names and
 * statuses. Statuses map as pending -> PENDING, verified -> SUCCESSFUL, failed/expired -> FAIL (DENIED when the
 * application's callback or the number policy refused it), canceled -> ABORTED. A shadow-blocked verification reads
 * like any pending one.
 */
import type { ChannelName, Verification } from "../core/types.js";

export type SinchStatus = "PENDING" | "SUCCESSFUL" | "FAIL" | "DENIED" | "ABORTED" | "ERROR";

/** Sinch's method names for our channels; a channel Sinch has no name for keeps ours. */
const METHOD: Record<string, string> = { flashcall: "flashcall", sms: "sms", voice: "callout", whatsapp: "whatsapp" };

/** Sinch's methods and the channel each starts on; null for one we do not offer. */
export const CHANNEL_OF_METHOD: Readonly<Record<string, string | null>> = {
  flashcall: "flashcall",
  sms: "sms",
  callout: "voice",
  whatsapp: "whatsapp",
  seamless: null,
};

export const sinchMethod = (channel: ChannelName | string): string => METHOD[channel] ?? channel;

/** The method of a verification: its current step's channel. */
export function methodOf(v: Verification): string {
  return sinchMethod(v.workflow[v.step]?.channel ?? v.workflow[0]?.channel ?? "flashcall");
}

export function sinchStatus(v: Verification): { status: SinchStatus; reason?: string } {
  const flash = v.attempts.at(-1)?.channel === "flashcall";
  switch (v.status) {
    case "pending":
      return { status: "PENDING" };
    case "verified":
      return { status: "SUCCESSFUL" };
    case "canceled":
      return { status: "ABORTED" };
    case "expired":
      return { status: "FAIL", reason: "Expired" };
    case "failed":
      if (v.reason === "denied_by_application") return { status: "DENIED", reason: "Denied by callback" };
      if (v.reason === "no_reachable_step") return { status: "DENIED", reason: "Destination denied" };
      if (v.reason === "max_checks") return { status: "FAIL", reason: flash ? "Invalid CLI" : "Invalid code" };
      if (v.reason === "ttl") return { status: "FAIL", reason: "Expired" };
      return { status: "FAIL", reason: flash ? "Network error or number unreachable" : "SMS delivery failure" };
  }
}

/** The `custom` string a Sinch start carried, kept as metadata.custom. */
export const customOf = (v: { metadata: Record<string, unknown> | null }): string | undefined =>
  typeof v.metadata?.custom === "string" ? v.metadata.custom : undefined;
