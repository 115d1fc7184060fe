/**
 * The widget's decisions, without a DOM: which screen a verification shows, which sentence an API error becomes,
 * what counts as a typed code, and the countdown. The element itself is tested in Chromium
 * (test/demo.browser.test.ts).
 */
import { describe, expect, it } from "vitest";
import { FlashverifyError, type Verification } from "../src/client.js";
import { formatRemaining, normaliseCode, problemOf, screenOf } from "../src/widget/flow.js";
import { ENGLISH, type WidgetStrings } from "../src/widget/strings.js";

const at = "2026-01-01T00:00:00.000Z";
const expires = "2026-01-01T00:01:00.000Z";

function verification(overrides: Partial<Verification> = {}): Verification {
  return {
    id: "ver_1",
    status: "pending",
    reason: null,
    phone: "+447400123456",
    channel: "flashcall",
    workflow: [
      { channel: "flashcall", timeout: 60 },
      { channel: "sms", timeout: 120 },
    ],
    step: 0,
    expires_at: expires,
    next_step_at: expires,
    attempts_remaining: 3,
    flashcall: { pattern: "+44207941****", code_length: 4, cli_filter: "" },
    message: null,
    attempts: [
      { id: "att_1", channel: "flashcall", status: "ringing", reason: null, created_at: at, expires_at: expires },
    ],
    ...overrides,
  };
}

const smsAfter = (callStatus: "failed" | "delivered") =>
  verification({
    channel: "sms",
    step: 1,
    flashcall: null,
    message: { channel: "sms", code_length: 6 },
    attempts: [
      { id: "att_1", channel: "flashcall", status: callStatus, reason: null, created_at: at, expires_at: expires },
      { id: "att_2", channel: "sms", status: "sent", reason: null, created_at: at, expires_at: expires },
    ],
  });

describe("screenOf", () => {
  it("waits for the call with the masked pattern, the code's deadline and the next channel", () => {
    expect(screenOf(verification(), ENGLISH)).toEqual({
      kind: "flashcall",
      pattern: "+44207941****",
      codeLength: 4,
      expiresAt: Date.parse(expires),
      next: { kind: "channel", channel: "sms" },
      called: false,
    });
    const only = screenOf(verification({ workflow: [{ channel: "flashcall", timeout: 60 }] }), ENGLISH);
    expect(only).toMatchObject({ kind: "flashcall", next: null });
    expect(screenOf(verification({ flashcall: null, attempts: [] }), ENGLISH)).toEqual({ kind: "starting" });
  });

  it("says the call has come once it ended, so the person reads the call log instead of waiting", () => {
    const ended = verification({
      attempts: [
        {
          id: "att_1",
          channel: "flashcall",
          status: "delivered",
          reason: "ringing_canceled",
          created_at: at,
          expires_at: expires,
        },
      ],
    });
    expect(screenOf(ended, ENGLISH)).toMatchObject({ kind: "flashcall", called: true, pattern: "+44207941****" });
    expect(screenOf(verification(), ENGLISH)).toMatchObject({ kind: "flashcall", called: false });
  });

  it("asks for the message's code, says whether the call failed first, and offers a new code on the last step", () => {
    expect(screenOf(smsAfter("failed"), ENGLISH)).toEqual({
      kind: "message",
      channel: "sms",
      codeLength: 6,
      expiresAt: Date.parse(expires),
      next: { kind: "resend" },
      fellBack: true,
      callMayComeLate: false,
    });
    expect(screenOf(smsAfter("delivered"), ENGLISH)).toMatchObject({ fellBack: false });
  });

  it("offers to say the call came after all only after a delivered call, until the phone has said it came", () => {
    expect(screenOf(smsAfter("delivered"), ENGLISH)).toMatchObject({ callMayComeLate: true });
    const reported = smsAfter("delivered");
    const call = reported.attempts[0] as (typeof reported.attempts)[0];
    call.phone_report = { outcome: "late", source: "manual", at };
    expect(screenOf(reported, ENGLISH)).toMatchObject({ callMayComeLate: false });
    call.phone_report = { outcome: "not_received", source: "manual", at };
    expect(screenOf(reported, ENGLISH)).toMatchObject({ callMayComeLate: true });
  });

  it("ends with a sentence, and a retry only where another try can succeed", () => {
    const ended = (status: Verification["status"], reason: string | null) =>
      screenOf(verification({ status, reason }), ENGLISH);
    expect(ended("verified", null)).toEqual({ kind: "verified" });
    expect(ended("expired", "ttl")).toEqual({ kind: "ended", message: ENGLISH.expired, retry: true });
    expect(ended("failed", "max_checks")).toEqual({ kind: "ended", message: ENGLISH.tooManyAttempts, retry: true });
    expect(ended("failed", "attempt_failed")).toEqual({ kind: "ended", message: ENGLISH.unreachable, retry: true });
    expect(ended("failed", "denied_by_application")).toEqual({ kind: "ended", message: ENGLISH.blocked, retry: false });
    expect(ended("canceled", "canceled_by_api")).toEqual({ kind: "ended", message: ENGLISH.canceled, retry: true });
  });

  it("speaks the strings it is given", () => {
    const french: WidgetStrings = { ...ENGLISH, expired: "La vérification a expiré." };
    expect(screenOf(verification({ status: "expired" }), french)).toMatchObject({
      message: "La vérification a expiré.",
    });
  });
});

describe("problemOf", () => {
  const error = (status: number, code: string, retryAfter: number | null = null) =>
    new FlashverifyError(status, code, `server says ${code}`, retryAfter);

  it("turns the API's error codes into sentences", () => {
    expect(problemOf(error(429, "RATE_LIMITED", 30), ENGLISH)).toEqual({
      message: "Too many attempts. Try again in 30 seconds.",
      retry: true,
    });
    for (const code of ["VERIFICATION_BLOCKED", "DESTINATION_BLOCKED", "SUSPECTED_PUMPING", "SPEND_CAP_REACHED"]) {
      expect(problemOf(error(403, code), ENGLISH), code).toEqual({ message: ENGLISH.blocked, retry: false });
    }
    for (const code of ["NUMBER_TYPE_NOT_ALLOWED", "COUNTRY_NOT_ALLOWED"]) {
      expect(problemOf(error(422, code), ENGLISH), code).toEqual({ message: ENGLISH.unsupportedNumber, retry: false });
    }
    expect(problemOf(error(409, "NO_NEXT_STEP"), ENGLISH)).toEqual({ message: ENGLISH.noNextStep, retry: false });
    expect(problemOf(error(400, "INVALID_CODE_FORMAT"), ENGLISH, 6).message).toBe("Enter 6 digits (0–9).");
    expect(problemOf(error(503, "OVERLOADED", 1), ENGLISH)).toEqual({ message: ENGLISH.unavailable, retry: true });
    expect(problemOf(error(400, "INVALID_PHONE_NUMBER"), ENGLISH).message).toBe("server says INVALID_PHONE_NUMBER");
    expect(problemOf(new TypeError("Failed to fetch"), ENGLISH)).toEqual({
      message: ENGLISH.networkError,
      retry: true,
    });
  });
});

describe("normaliseCode and formatRemaining", () => {
  it("takes exactly the code's ASCII digits, spaces and dashes aside", () => {
    expect(normaliseCode("1234", 4)).toBe("1234");
    expect(normaliseCode(" 12-34 ", 4)).toBe("1234");
    expect(normaliseCode("123 456", 6)).toBe("123456");
    for (const typed of ["123", "12345", "12a4", "１２３４", "٣٤٥٦", ""])
      expect(normaliseCode(typed, 4), typed).toBeNull();
  });

  it("counts down in m:ss and stops at 0:00", () => {
    expect(formatRemaining(60_000, 0)).toBe("1:00");
    expect(formatRemaining(59_001, 0)).toBe("1:00");
    expect(formatRemaining(9_000, 0)).toBe("0:09");
    expect(formatRemaining(0, 5_000)).toBe("0:00");
  });
});
