import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_OTP_TEMPLATE, newOtp, renderOtpText } from "./otp.js";
import { endedForGood, stepReaches } from "./workflow.js";

describe("workflow policy", () => {
  it("moves on at once from a flash call that never rang, but waits on a message whose fate is open", () => {
    expect(endedForGood("flashcall", false, "busy")).toBe(true);
    expect(endedForGood("flashcall", false, "timeout")).toBe(true);
    expect(endedForGood("flashcall", true, "ringing_canceled")).toBe(false);
    expect(endedForGood("sms", false, "rejected")).toBe(true);
    expect(endedForGood("sms", false, "undeliverable")).toBe(true);
    expect(endedForGood("sms", false, "submit_unknown")).toBe(false);
    expect(endedForGood("whatsapp", false, "no_receipt")).toBe(false);
  });

  it("keeps flash calls to numbers whose call log an app can read", () => {
    const to = (numberType: string) => ({ numberType, email: null });
    expect(stepReaches("flashcall", to("MOBILE"))).toEqual({ ok: true });
    expect(stepReaches("flashcall", to("VOIP"))).toEqual({ ok: false, reason: "number_type" });
    expect(stepReaches("flashcall", to("FIXED_LINE"))).toEqual({ ok: false, reason: "number_type" });
    expect(stepReaches("flashcall", to("UNKNOWN"))).toEqual({ ok: false, reason: "number_type" });
    expect(stepReaches("sms", to("UNKNOWN"))).toEqual({ ok: false, reason: "number_type" });
    expect(stepReaches("sms", to("VOIP"))).toEqual({ ok: true });
    expect(stepReaches("sms", to("FIXED_LINE"))).toEqual({ ok: false, reason: "number_type" });
    expect(stepReaches("email", to("MOBILE"))).toEqual({ ok: false, reason: "no_email" });
    expect(stepReaches("email", { numberType: "MOBILE", email: "a@b.example" })).toEqual({ ok: true });
  });
});

describe("one-time codes", () => {
  it("draws the asked number of decimal digits, every digit used", () => {
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 10 }), (length) => {
        expect(newOtp(length)).toMatch(new RegExp(`^\\d{${length}}$`));
      }),
    );
    const seen = new Set(Array.from({ length: 200 }, () => newOtp(6)).join(""));
    expect(seen.size).toBe(10);
    expect(() => newOtp(3)).toThrow(RangeError);
    expect(() => newOtp(11)).toThrow(RangeError);
  });

  it("renders the text with the code, the sender and the lifetime", () => {
    expect(renderOtpText(DEFAULT_OTP_TEMPLATE, { app: "Acme", code: "123456", ttlMs: 600_000 })).toBe(
      "Your Acme verification code is 123456. It expires in 10 min. Never share it.",
    );
  });
});
