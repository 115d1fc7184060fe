/** The widget's screen for a reverse flash call: the number to call, its deadline, and the step after it. */
import { expect, it } from "vitest";
import type { Verification } from "../src/client.js";
import { screenOf } from "../src/widget/flow.js";
import { ENGLISH } from "../src/widget/strings.js";

const at = "2026-01-01T00:00:00.000Z";
const expires = "2026-01-01T00:02:00.000Z";

const reverse = (overrides: Partial<Verification> = {}): Verification => ({
  id: "ver_1",
  status: "pending",
  reason: null,
  phone: "+447400123456",
  channel: "reverse_flashcall",
  workflow: [
    { channel: "reverse_flashcall", timeout: 120 },
    { channel: "sms", timeout: 120 },
  ],
  step: 0,
  expires_at: expires,
  next_step_at: expires,
  attempts_remaining: 5,
  flashcall: null,
  message: null,
  reverse_flashcall: { dial: "+442079460999", expires_at: expires },
  attempts: [
    { id: "att_1", channel: "reverse_flashcall", status: "sent", reason: null, created_at: at, expires_at: expires },
  ],
  ...overrides,
});

it("asks for a call to the number shown until its deadline, offering the next step", () => {
  expect(screenOf(reverse(), ENGLISH)).toEqual({
    kind: "reverse",
    dial: "+442079460999",
    expiresAt: Date.parse(expires),
    next: { kind: "channel", channel: "sms" },
  });
  expect(ENGLISH.useInstead("reverse_flashcall")).toBe("Use a call from your phone instead");
});

it("waits for the number before it shows anything, and is done once the call verified", () => {
  expect(screenOf(reverse({ reverse_flashcall: null }), ENGLISH)).toEqual({ kind: "starting" });
  expect(screenOf(reverse({ status: "verified", reverse_flashcall: null }), ENGLISH)).toEqual({ kind: "verified" });
  const last = reverse({ workflow: [{ channel: "reverse_flashcall", timeout: 120 }] });
  expect(screenOf(last, ENGLISH)).toMatchObject({ kind: "reverse", next: null });
});
