/**
 * What the widget shows, decided from the verification as the API reports it: pure functions, no DOM, so they are
 * unit-tested in Node and the element only draws their answers.
 */
import { type Channel, FlashverifyError, type Verification } from "../client.js";
import type { WidgetStrings } from "./strings.js";

/** What "Use SMS instead" does on this step: start the next channel, send a new code on this one, or nothing. */
export type NextAction = { kind: "channel"; channel: Channel } | { kind: "resend" } | null;

export type Screen =
  | { kind: "starting" }
  | {
      kind: "flashcall";
      pattern: string;
      codeLength: number;
      /** when the code stops counting (ms since the epoch) */
      expiresAt: number | null;
      next: NextAction;
      /** the call has come and gone (a missed call, or answered): its caller ID is on the phone to read */
      called: boolean;
    }
  | {
      kind: "reverse";
      /** E.164 number to call */
      dial: string;
      expiresAt: number | null;
      next: NextAction;
    }
  | {
      kind: "message";
      channel: Channel;
      codeLength: number;
      expiresAt: number | null;
      next: NextAction;
      /** the flash call before it failed (busy, unreachable...), rather than the person asking for a message */
      fellBack: boolean;
      /** the flash call before it was delivered and the person moved on: it may still show up (late) */
      callMayComeLate: boolean;
    }
  | { kind: "verified" }
  | { kind: "ended"; message: string; retry: boolean };

export function screenOf(v: Verification, strings: WidgetStrings): Screen {
  if (v.status === "verified") return { kind: "verified" };
  if (v.status !== "pending") return ended(v, strings);
  const attempts = v.attempts ?? [];
  const current = attempts.at(-1);
  const expiresAt = current ? Date.parse(current.expires_at) : null;
  const following = v.workflow[v.step + 1];
  if (v.channel === "flashcall") {
    if (!v.flashcall) return { kind: "starting" };
    const next: NextAction = following ? { kind: "channel", channel: following.channel } : null;
    const called = current?.channel === "flashcall" && current.status === "delivered";
    const { pattern, code_length: codeLength } = v.flashcall;
    return { kind: "flashcall", pattern, codeLength, expiresAt, next, called };
  }
  if (v.channel === "reverse_flashcall") {
    if (!v.reverse_flashcall) return { kind: "starting" };
    const next: NextAction = following ? { kind: "channel", channel: following.channel } : null;
    return {
      kind: "reverse",
      dial: v.reverse_flashcall.dial,
      expiresAt: Date.parse(v.reverse_flashcall.expires_at),
      next,
    };
  }
  if (!v.message) return { kind: "starting" };
  const previous = attempts.at(-2);
  return {
    kind: "message",
    channel: v.message.channel,
    codeLength: v.message.code_length,
    expiresAt,
    next: following ? { kind: "channel", channel: following.channel } : { kind: "resend" },
    fellBack: previous?.channel === "flashcall" && previous.status === "failed",
    callMayComeLate:
      previous?.channel === "flashcall" &&
      previous.status === "delivered" &&
      previous.phone_report?.outcome !== "late" &&
      previous.phone_report?.outcome !== "received",
  };
}

function ended(v: Verification, strings: WidgetStrings): Screen {
  if (v.status === "expired") return { kind: "ended", message: strings.expired, retry: true };
  if (v.status === "canceled") return { kind: "ended", message: strings.canceled, retry: true };
  switch (v.reason) {
    case "max_checks":
      return { kind: "ended", message: strings.tooManyAttempts, retry: true };
    case "attempt_failed":
    case "no_reachable_step":
      return { kind: "ended", message: strings.unreachable, retry: true };
    default:
      // denied by the application or blocked by the fraud controls: trying again would be refused too
      return { kind: "ended", message: strings.blocked, retry: false };
  }
}

const BLOCKED = new Set([
  "VERIFICATION_BLOCKED",
  "DESTINATION_BLOCKED",
  "SUSPECTED_PUMPING",
  "SPEND_CAP_REACHED",
  "FORBIDDEN",
]);

/**
 * The sentence for an error of the API (or the network), and whether trying again may help. The API's own
 * message is the fallback: it is written for people, and never carries a secret.
 */
export function problemOf(error: unknown, strings: WidgetStrings, codeLength = 4): { message: string; retry: boolean } {
  if (!(error instanceof FlashverifyError)) return { message: strings.networkError, retry: true };
  if (BLOCKED.has(error.code)) return { message: strings.blocked, retry: false };
  switch (error.code) {
    case "RATE_LIMITED":
      return { message: strings.rateLimited(error.retryAfterSeconds), retry: true };
    case "NO_REACHABLE_CHANNEL":
    case "NO_POOL_FOR_DESTINATION":
      return { message: strings.unreachable, retry: false };
    case "NUMBER_TYPE_NOT_ALLOWED":
    case "COUNTRY_NOT_ALLOWED":
      return { message: strings.unsupportedNumber, retry: false };
    case "NO_NEXT_STEP":
      return { message: strings.noNextStep, retry: false };
    case "INVALID_CODE_FORMAT":
      return { message: strings.invalidFormat(codeLength), retry: false };
  }
  if (error.status >= 500) return { message: strings.unavailable, retry: true };
  return { message: error.message, retry: true };
}

/** The code the person typed, when it is exactly `length` ASCII digits (spaces and dashes ignored); else null. */
export function normaliseCode(typed: string, length: number): string | null {
  const code = typed.replace(/[\s-]/g, "");
  return code.length === length && /^[0-9]+$/.test(code) ? code : null;
}

/** `m:ss` until `deadline`, never negative. */
export function formatRemaining(deadline: number, now: number): string {
  const seconds = Math.max(0, Math.ceil((deadline - now) / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}
