/**
 * Workflows: a verification tries an ordered list of channels, one step at a time, under one id. This module is
 * the policy, pure and framework-free: which steps a request may name, their defaults, when a step's attempt has
 * failed for good (move on at once instead of waiting out its timeout), and which steps a number cannot take.
 */

import { CHANNELS, type ChannelName } from "./types.js";

export { CHANNELS };
export type WorkflowChannel = ChannelName;

export interface WorkflowStep {
  channel: WorkflowChannel;
  /** after this long without a verified check the next step starts */
  timeoutMs: number;
}

/** How long each kind of step waits before the next one starts, unless the request says otherwise. */
export const DEFAULT_STEP_TIMEOUT_MS: Readonly<Record<WorkflowChannel, number>> = {
  flashcall: 60_000,
  sms: 120_000,
  whatsapp: 120_000,
  viber: 120_000,
  email: 300_000,
  voice: 180_000,
  // Long enough to find the phone app, tap the link and wait for the call to be rejected.
  reverse_flashcall: 120_000,
};

export const MAX_WORKFLOW_STEPS = 5;
export const DEFAULT_WORKFLOW: readonly WorkflowStep[] = [
  { channel: "flashcall", timeoutMs: DEFAULT_STEP_TIMEOUT_MS.flashcall },
  { channel: "sms", timeoutMs: DEFAULT_STEP_TIMEOUT_MS.sms },
];

/**
 * Why an attempt ended, across channels. A flash call that ended without ringing never showed its caller ID, so
 * nothing is left to wait for. A message refused or reported undeliverable is equally over; one whose fate is
 * unknown (the link dropped) or that simply has no receipt yet may still arrive, so its step runs its course.
 */
export function endedForGood(channel: WorkflowChannel, delivered: boolean, reason: string): boolean {
  if (delivered) return false;
  // A call is over when it is over: one that did not say the code leaves nothing to wait for.
  if (channel === "flashcall" || channel === "voice") return true;
  return (
    reason === "rejected" ||
    reason === "undeliverable" ||
    reason === "expired" ||
    reason === "network_error" ||
    reason === "refused_by_policy"
  );
}

/** Number types (libphonenumber-js) a flash call can reach: it needs a phone whose call log an app can read. */
const FLASHCALL_TYPES = new Set(["MOBILE", "FIXED_LINE_OR_MOBILE"]);
/** Types that take an SMS, WhatsApp or Viber message. */
const MESSAGE_TYPES = new Set(["MOBILE", "FIXED_LINE_OR_MOBILE", "VOIP"]);
/** Types a spoken code reaches: any phone that can answer a call (the fraud controls' number policy narrows it). */
const VOICE_TYPES = new Set(["MOBILE", "FIXED_LINE_OR_MOBILE", "FIXED_LINE", "VOIP"]);

/**
 * Whether a step can reach this destination, and why not. Email needs an address; the phone channels go by the
 * number's type (an unknown type is let through for messages, where the provider decides, but not for a flash
 * call, which would fail silently on a landline or VoIP number).
 */
export function stepReaches(
  channel: WorkflowChannel,
  destination: { numberType: string | undefined; email: string | null },
): { ok: true } | { ok: false; reason: "number_type" | "no_email" } {
  if (channel === "email") return destination.email ? { ok: true } : { ok: false, reason: "no_email" };
  const type = destination.numberType;
  if (channel === "flashcall")
    return type && FLASHCALL_TYPES.has(type) ? { ok: true } : { ok: false, reason: "number_type" };
  // A reverse flash call needs a phone that can place a call: the same numbers a spoken code reaches.
  if (channel === "voice" || channel === "reverse_flashcall")
    return type === undefined || VOICE_TYPES.has(type) ? { ok: true } : { ok: false, reason: "number_type" };
  return type === undefined || MESSAGE_TYPES.has(type) ? { ok: true } : { ok: false, reason: "number_type" };
}
