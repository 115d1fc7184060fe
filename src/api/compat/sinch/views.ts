/** The Sinch API's answers about our verifications (its vocabulary: src/events/sinch-vocabulary.ts). */
import { z } from "zod";
import { cliFilter } from "../../../core/matching.js";
import type { Attempt, Verification } from "../../../core/types.js";
import { customOf, methodOf, sinchStatus } from "../../../events/sinch-vocabulary.js";

export const Identity = z.object({ type: z.literal("number"), endpoint: z.string() });

const Status = z.enum(["PENDING", "SUCCESSFUL", "FAIL", "DENIED", "ABORTED", "ERROR"]);

export const StatusView = z.object({
  id: z.string(),
  method: z.string(),
  status: Status,
  reason: z.string().optional(),
  callComplete: z.boolean().optional().describe("flash calls: the call has ended"),
  callResult: z.string().optional(),
  reference: z.string().optional(),
  custom: z.string().optional(),
  identity: Identity,
  countryId: z.string(),
  verificationTimestamp: z.string().describe("UTC, YYYY-MM-DDThh:mm:ss.SSS as Sinch writes it (no zone)"),
  source: z.enum(["intercepted", "manual"]).optional(),
});

export const ReportView = z.object({
  id: z.string(),
  method: z.string(),
  status: Status,
  reason: z.string().optional(),
  callComplete: z.boolean().optional(),
  reference: z.string().optional(),
  source: z.enum(["intercepted", "manual"]).optional(),
  identity: Identity,
});

const CALL_RESULT: Partial<Record<NonNullable<Attempt["reason"]>, string>> = {
  ringing_canceled: "COMPLETED",
  answered: "ANSWERED",
  busy: "BUSY",
  no_answer: "NO_ANSWER",
  timeout: "NO_ANSWER",
};

/** Sinch's timestamp form: ISO 8601 in UTC without the zone letter. */
const sinchTime = (ms: number) => new Date(ms).toISOString().slice(0, -1);

function callFields(v: Verification): { callComplete?: boolean; callResult?: string } {
  const call = v.attempts.findLast((a) => a.channel === "flashcall");
  if (!call) return {};
  const complete = call.status === "delivered" || call.status === "failed";
  if (!complete) return { callComplete: false };
  return { callComplete: true, callResult: (call.reason && CALL_RESULT[call.reason]) ?? "FAILED" };
}

/** How the user proved the number: a whole caller ID is what an app intercepting the call reports. */
function sourceOf(v: Verification): { source?: "intercepted" | "manual" } {
  if (v.status !== "verified") return {};
  const attempt = v.attempts.at(-1);
  return { source: attempt?.channel === "flashcall" && v.verifiedCallerId ? "intercepted" : "manual" };
}

const optional = <K extends string>(key: K, value: string | null | undefined) =>
  (value ? { [key]: value } : {}) as Partial<Record<K, string>>;

export function statusView(v: Verification): z.infer<typeof StatusView> {
  return {
    id: v.id,
    method: methodOf(v),
    ...sinchStatus(v),
    ...callFields(v),
    ...optional("reference", v.reference),
    ...optional("custom", customOf(v)),
    identity: { type: "number", endpoint: v.phone },
    countryId: v.country,
    verificationTimestamp: sinchTime(v.createdAt),
    ...sourceOf(v),
  };
}

/**
 * The answer to a report: what this report achieved. A wrong code leaves our verification open for the checks it
 * has left (status reads PENDING), but this report answers FAIL with Sinch's reason, as Sinch's report does.
 */
export function reportView(v: Verification): z.infer<typeof ReportView> {
  const flash = v.attempts.at(-1)?.channel === "flashcall";
  const result =
    v.status === "pending"
      ? { status: "FAIL" as const, reason: flash ? "Invalid CLI" : "Invalid code" }
      : sinchStatus(v);
  const { callComplete } = callFields(v);
  return {
    id: v.id,
    method: methodOf(v),
    ...result,
    ...(callComplete === undefined ? {} : { callComplete }),
    ...optional("reference", v.reference),
    ...sourceOf(v),
    identity: { type: "number", endpoint: v.phone },
  };
}

/** The flash call's public half: a filter matching the caller ID with its code digits left open. */
export function flashCallFilter(v: Verification): string | null {
  const attempt = v.attempts.at(-1);
  if (attempt?.channel !== "flashcall" || attempt.cliPrefix === null) return null;
  return cliFilter(attempt.cliPrefix, attempt.codeLength);
}
