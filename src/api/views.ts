/**
 * The public JSON shape of a verification, and the zod schemas that validate it and document it in OpenAPI.
 * A pending verification never shows its CLI or code: only the masked pattern and the public prefix.
 */
import { z } from "zod";
import { cliFilter } from "../core/matching.js";
import { maskedPattern } from "../core/pool.js";
import type { Attempt, Verification } from "../core/types.js";
import { attemptsRemaining } from "../core/verification.js";

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export const FlashcallView = z.object({
  pattern: z.string().describe("the caller ID with its code digits masked, e.g. +44207941****"),
  code_length: z.number().int().describe("how many trailing digits of the caller ID form the code"),
  cli_filter: z.string().describe("regular expression matching the caller ID in international or national form"),
});

export const AttemptView = z.object({
  id: z.string(),
  channel: z.literal("flashcall"),
  status: z.enum(["dialing", "ringing", "delivered", "failed"]),
  reason: z.string().nullable(),
  sip_code: z.number().int().nullable(),
  created_at: z.string(),
  dialed_at: z.string().nullable(),
  ringing_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  post_dial_delay_ms: z.number().int().nullable().describe("INVITE to first 180/183"),
  expires_at: z.string(),
});

export const VerificationView = z.object({
  id: z.string(),
  status: z.enum(["pending", "verified", "failed", "expired", "canceled"]),
  reason: z.string().nullable(),
  phone: z.string(),
  country: z.string(),
  channel: z.literal("flashcall"),
  reference: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()).nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  expires_at: z.string(),
  ended_at: z.string().nullable(),
  attempts_remaining: z.number().int(),
  guess_probability: z.number().describe("checks allowed / distinct codes of the pool: an attacker's odds"),
  flashcall: FlashcallView,
  verified_caller_id: z.string().nullable().describe("the caller ID that verified; null until verified"),
  attempts: z.array(AttemptView),
});

export type VerificationJson = z.infer<typeof VerificationView>;

function flashcallView(a: Attempt | undefined): z.infer<typeof FlashcallView> {
  if (!a) return { pattern: "", code_length: 0, cli_filter: "" };
  return {
    pattern: maskedPattern(a.cliPrefix, a.codeLength),
    code_length: a.codeLength,
    cli_filter: cliFilter(a.cliPrefix, a.codeLength),
  };
}

function attemptView(a: Attempt): z.infer<typeof AttemptView> {
  return {
    id: a.id,
    channel: a.channel,
    status: a.status,
    reason: a.reason,
    sip_code: a.sipCode,
    created_at: iso(a.createdAt) as string,
    dialed_at: iso(a.dialedAt),
    ringing_at: iso(a.ringingAt),
    ended_at: iso(a.endedAt),
    post_dial_delay_ms: a.ringingAt !== null && a.dialedAt !== null ? a.ringingAt - a.dialedAt : null,
    expires_at: iso(a.expiresAt) as string,
  };
}

export function verificationView(v: Verification): VerificationJson {
  return {
    id: v.id,
    status: v.status,
    reason: v.reason,
    phone: v.phone,
    country: v.country,
    channel: "flashcall",
    reference: v.reference,
    metadata: v.metadata,
    created_at: iso(v.createdAt) as string,
    updated_at: iso(v.updatedAt) as string,
    expires_at: iso(v.expiresAt) as string,
    ended_at: iso(v.endedAt),
    attempts_remaining: attemptsRemaining(v),
    guess_probability: v.guessProbability,
    flashcall: flashcallView(v.attempts.at(-1)),
    verified_caller_id: v.status === "verified" ? v.verifiedCallerId : null,
    attempts: v.attempts.map(attemptView),
  };
}

export const ErrorView = z.object({
  error: z.object({ code: z.string(), message: z.string(), request_id: z.string() }),
});

/** Error responses every authenticated route may give, for the OpenAPI document. */
export const commonErrors = { 400: ErrorView, 401: ErrorView, 404: ErrorView, 413: ErrorView } as const;
