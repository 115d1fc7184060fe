/**
 * The public JSON shape of a verification, and the zod schemas that validate it and document it in OpenAPI.
 * A pending verification never shows its CLI or code: only the masked pattern and the public prefix.
 */
import { z } from "zod";
import { channelChoiceDocument } from "../core/channel-choice.js";
import { cliFilter } from "../core/matching.js";
import { maskedPattern } from "../core/pool.js";
import type { StoredEvent } from "../core/ports.js";
import { RATE_CARD, type RateCard, smsOnlyCost } from "../core/rate-card.js";
import type { Attempt, ChannelChoice, Verification } from "../core/types.js";
import { CHANNELS, MESSAGE_CHANNELS, REPORT_OUTCOMES, REPORT_SOURCES } from "../core/types.js";
import { attemptsRemaining } from "../core/verification.js";
import { type PublicEvent, publicEvent } from "../events/catalogue.js";

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export const FlashcallView = z.object({
  pattern: z.string().describe("the caller ID with its code digits masked, e.g. +44207941****"),
  code_length: z.number().int().describe("how many trailing digits of the caller ID form the code"),
  cli_filter: z.string().describe("regular expression matching the caller ID in international or national form"),
});

const CHANNEL = z.enum(CHANNELS);

export const ReverseFlashcallView = z.object({
  dial: z
    .string()
    .describe("E.164: the number the phone is to call (a tel: link); the call is rejected, so it is free"),
  expires_at: z.string().describe("until when a call to it verifies"),
});

export const MessageView = z.object({
  channel: z.enum(MESSAGE_CHANNELS),
  code_length: z.number().int().describe("digits of the code the message carries"),
});

export const AttemptView = z.object({
  id: z.string(),
  channel: CHANNEL,
  status: z.enum(["dialing", "ringing", "sent", "delivered", "failed"]),
  reason: z.string().nullable(),
  sip_code: z.number().int().nullable(),
  created_at: z.string(),
  dialed_at: z.string().nullable(),
  ringing_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  post_dial_delay_ms: z.number().int().nullable().describe("INVITE to first 180/183"),
  trunk: z.string().nullable().describe("the carrier trunk that carried the call (the last one tried)"),
  sip_reason: z.string().nullable().describe("the Reason header of the final response, e.g. Q.850;cause=17"),
  detail: z.string().nullable().describe("what a message provider said: its status or error"),
  cost: z.number().nullable().describe("list price in USD (rate card); null when nothing was sent"),
  expires_at: z.string(),
  phone_report: z
    .object({
      outcome: z.enum(REPORT_OUTCOMES),
      source: z.enum(REPORT_SOURCES),
      at: z.string(),
    })
    .nullable()
    .describe("flash calls: what the phone reported of the call (POST /v1/verifications/{id}/report)"),
});

export const ChannelChoiceView = z
  .object({
    network: z.string().describe("the destination network: a name from NETWORKS, else country:number range"),
    flashcall_conversion: z.number().nullable().describe("share of the window's flash calls that verified"),
    samples: z.number().int().describe("flash calls to the network that ended in the window"),
    conversion_upper_bound: z.number().nullable().describe("Wilson 95% upper bound of that share"),
    workflow: z.array(CHANNEL).describe("the channels chosen, in order"),
    reason: z.enum(["measured", "below_threshold", "exploration", "cheaper", "number_type"]),
    expected_cost_per_verified: z
      .record(z.string(), z.number().nullable())
      .describe("USD per verified user of each workflow weighed (channels joined by >); null: cannot verify"),
  })
  .describe('why workflow "auto" chose these channels; API keys only');

/** The same document `verification.started` carries, so the API and the events spell a choice alike. */
function channelChoiceView(c: ChannelChoice): z.infer<typeof ChannelChoiceView> {
  return channelChoiceDocument(c);
}

export const RiskView = z
  .object({
    outcome: z.enum(["allow", "challenge", "block", "shadow_block"]),
    score: z.number(),
    factors: z.array(z.object({ name: z.string(), weight: z.number(), detail: z.string() })),
    reasons: z.array(z.string()),
  })
  .describe("the fraud controls' assessment at start; shown to API keys only");

export const ClientView = z.object({
  ip: z.string().optional(),
  device_id: z.string().optional(),
  platform: z.string().optional(),
  app_version: z.string().optional(),
  user_agent: z.string().optional(),
  locale: z.string().optional().describe("the start's locale"),
  can_dial: z.boolean().optional().describe("the client can place a call"),
});

export const VerificationView = z.object({
  id: z.string(),
  status: z.enum(["pending", "verified", "failed", "expired", "canceled"]),
  reason: z.string().nullable(),
  phone: z.string().nullable().describe("E.164; null once its personal data was removed (see redaction)"),
  country: z.string(),
  channel: CHANNEL.describe("the channel of the step under way"),
  workflow: z
    .array(z.object({ channel: CHANNEL, timeout: z.number().describe("seconds before the next step starts") }))
    .describe("the channels to try, in order"),
  step: z.number().int().describe("index in workflow of the step under way"),
  next_step_at: z.string().nullable().describe("when the next step starts unless this one succeeds first"),
  reference: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()).nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  expires_at: z.string(),
  ended_at: z.string().nullable(),
  attempts_remaining: z.number().int(),
  guess_probability: z.number().describe("checks allowed / distinct codes of the pool: an attacker's odds"),
  flashcall: FlashcallView.nullable().describe("the flash call to wait for; null when the workflow has none yet"),
  message: MessageView.nullable().describe("the message step under way (SMS, WhatsApp, email); null otherwise"),
  reverse_flashcall: ReverseFlashcallView.nullable().describe(
    "the reverse flash call under way: the phone calls this number and its caller ID verifies; null otherwise",
  ),
  cost: z
    .object({
      currency: z.literal("USD"),
      total: z.number().describe("what the attempts cost at the rate card's prices (attempt fees and deliveries)"),
      sms_only: z.number().describe("what one SMS to this country would have cost"),
      saving: z.number().describe("sms_only - total: what the workflow saved against an SMS-only verification"),
    })
    .nullable()
    .describe("list prices from the rate card, not an invoice; null for a client token"),
  verified_caller_id: z.string().nullable().describe("the caller ID that verified; null until verified"),
  attempts: z.array(AttemptView),
  client: ClientView.nullable().describe("what the start said about the person's device; API keys only"),
  risk: RiskView.nullable(),
  channel_choice: ChannelChoiceView.nullable(),
  refusal: z
    .object({
      code: z.string(),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).nullable(),
    })
    .nullable()
    .describe(
      "why the fraud controls refused the start (status failed, reason refused): the error it was answered with",
    ),
  review_number_id: z
    .string()
    .nullable()
    .describe("the application's review number it verified (a fixed code; nothing was sent); null otherwise"),
  redaction: z
    .object({
      at: z.string(),
      reason: z.enum(["retention", "erasure"]),
      by: z.string().nullable().describe("the API key that asked for an erasure"),
    })
    .nullable()
    .describe(
      "set once the phone number, email, client and provider texts were removed: after the retention period, or on request (DELETE)",
    ),
});

export type VerificationJson = z.infer<typeof VerificationView>;

function flashcallView(a: Attempt | undefined): z.infer<typeof FlashcallView> | null {
  if (!a || a.cliPrefix === null) return null;
  return {
    pattern: maskedPattern(a.cliPrefix, a.codeLength),
    code_length: a.codeLength,
    cli_filter: cliFilter(a.cliPrefix, a.codeLength),
  };
}

/** From the INVITE that rang (after any queueing and failover), else from when the attempt started dialing. */
function postDialDelay(a: Attempt): number | null {
  const from = a.invitedAt ?? a.dialedAt;
  return a.ringingAt !== null && from !== null ? Math.max(0, a.ringingAt - from) : null;
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
    post_dial_delay_ms: postDialDelay(a),
    trunk: a.trunkId,
    sip_reason: a.reasonHeader,
    detail: a.detail,
    cost: a.cost,
    expires_at: iso(a.expiresAt) as string,
    phone_report: a.phoneReport ? { ...a.phoneReport, at: iso(a.phoneReport.at) as string } : null,
  };
}

function messageView(a: Attempt | undefined): z.infer<typeof MessageView> | null {
  if (!a || a.channel === "flashcall" || a.channel === "reverse_flashcall") return null;
  return { channel: a.channel, code_length: a.codeLength };
}

/** Shown while it can still verify: once the verification or the step is over, the number is no longer the user's. */
function reverseView(v: Verification): z.infer<typeof ReverseFlashcallView> | null {
  const a = v.attempts.at(-1);
  if (v.status !== "pending" || a?.channel !== "reverse_flashcall" || !a.dial) return null;
  return { dial: a.dial, expires_at: iso(a.expiresAt) as string };
}

/** Rounded to a millionth of a dollar, so sums of list prices print as prices. */
const usd = (amount: number) => Math.round(amount * 1e6) / 1e6;

function costView(v: Verification, card: RateCard) {
  const total = v.attempts.reduce((sum, a) => sum + (a.cost ?? 0), 0);
  const smsOnly = smsOnlyCost(v.country, card);
  return { currency: "USD" as const, total: usd(total), sms_only: usd(smsOnly), saving: usd(smsOnly - total) };
}

/** The backend's view; `card` prices the SMS-only comparison (the configured rate card). */
export function verificationView(v: Verification, card: RateCard = RATE_CARD): VerificationJson {
  return {
    id: v.id,
    status: v.status,
    reason: v.reason,
    phone: v.redaction ? null : v.phone,
    country: v.country,
    channel: v.workflow[v.step]?.channel ?? "flashcall",
    workflow: v.workflow.map((s) => ({ channel: s.channel, timeout: s.timeoutMs / 1000 })),
    step: v.step,
    next_step_at: v.status === "pending" ? iso(v.stepDeadline) : null,
    reference: v.reference,
    metadata: v.metadata,
    created_at: iso(v.createdAt) as string,
    updated_at: iso(v.updatedAt) as string,
    expires_at: iso(v.expiresAt) as string,
    ended_at: iso(v.endedAt),
    attempts_remaining: attemptsRemaining(v),
    guess_probability: v.guessProbability,
    flashcall: flashcallView(v.attempts.at(-1)),
    message: messageView(v.attempts.at(-1)),
    reverse_flashcall: reverseView(v),
    cost: costView(v, card),
    verified_caller_id: v.status === "verified" ? v.verifiedCallerId : null,
    attempts: v.attempts.map(attemptView),
    client: v.client,
    risk: v.risk,
    channel_choice: v.channelChoice ? channelChoiceView(v.channelChoice) : null,
    refusal: v.refusal ?? null,
    review_number_id: v.reviewNumberId ?? null,
    redaction: v.redaction
      ? { at: iso(v.redaction.at) as string, reason: v.redaction.reason, by: v.redaction.by }
      : null,
  };
}

/**
 * What the app or browser holding a client token sees: the status, not the backend's bookkeeping (reference,
 * metadata, client, risk, prices, trunks, provider texts). A shadow-blocked attempt shows as a delivered missed call,
 * because the person behind a shadow-blocked start must not learn that nothing was sent; so that no timing gives it
 * away either, a client token sees no attempt's times (dialed, ringing, ended, post-dial delay) and `updated_at`
 * says when the status last changed, for real calls and shadow blocks alike.
 */
export function clientVerificationView(v: Verification): VerificationJson {
  const view = verificationView(v);
  const attempts = view.attempts.map((a, i) => {
    const attempt = v.attempts[i];
    const shown = {
      ...a,
      cost: null,
      trunk: null,
      detail: null,
      sip_reason: null,
      dialed_at: null,
      ringing_at: null,
      ended_at: null,
      post_dial_delay_ms: null,
    };
    if (attempt?.reason !== "shadow_blocked") return shown;
    // A shadow call rang and ended as a missed call does; a shadow message was recorded unsent at once.
    if (attempt.channel === "flashcall") return { ...shown, reason: "ringing_canceled" };
    return { ...shown, status: "sent" as const, reason: null };
  });
  // The totals go too: a total of 0 after a "sent" step would tell a shadow-blocked client what its attempts hide.
  return {
    ...view,
    updated_at: view.ended_at ?? view.created_at,
    reference: null,
    metadata: null,
    client: null,
    risk: null,
    channel_choice: null,
    cost: null,
    refusal: null,
    redaction: null,
    attempts,
  };
}

export const ErrorView = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    request_id: z.string(),
    details: z.record(z.string(), z.unknown()).optional().describe('specifics, e.g. { limit: "destination" }'),
  }),
});

/** Error responses every authenticated route may give, for the OpenAPI document. */
export const commonErrors = { 400: ErrorView, 401: ErrorView, 404: ErrorView, 413: ErrorView } as const;

/** Event fields only the backend sees: provider ids and texts, the carrier's trunks and its Reason header. */
const CLIENT_HIDDEN_FIELDS = ["provider_ids", "detail", "trunk", "failed_over", "reason_header"];

/**
 * What the app holding a client token may see of one stored event, on every route that serves a client token (the
 * event list, the stream): no risk assessment, no trunk or provider detail, and a shadow-blocked attempt reads as
 * what it pretends to be (a missed call that rang and was canceled; a message: dialing, sent).
 */
export function clientEvents(stored: StoredEvent): PublicEvent[] {
  const e = publicEvent(stored, true);
  const data = { ...e.data };
  for (const field of CLIENT_HIDDEN_FIELDS) delete data[field];
  // A shadow-blocked workflow that fails says why its last attempt ended: as that attempt pretended.
  if (data.attempt_reason === "shadow_blocked") {
    data.attempt_reason = data.channel === "flashcall" ? "ringing_canceled" : "no_receipt";
  }
  if (data.reason !== "shadow_blocked") return [{ ...e, data }];
  // A shadow call's events are a real call's, one by one as they happen; only the reason it ended is withheld.
  if (data.channel === "flashcall") return [{ ...e, data: { ...data, reason: "ringing_canceled" } }];
  const { verification_id, attempt_id, channel, seq, code_length, dial } = data;
  const ids = { verification_id, attempt_id, channel };
  const opened = channel === "reverse_flashcall" ? { ...ids, seq, dial } : { ...ids, seq, code_length };
  return [
    { ...e, type: "attempt.dialing", data: opened },
    { ...e, type: "attempt.sent", data: ids },
  ];
}
