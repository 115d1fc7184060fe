/**
 * Delivery reports from the phone: what the app saw of a flash call (it arrived, it arrived after the step had moved
 * on, it never arrived). A silently dropped call still looks delivered to the server (the carrier answers 180, then
 * 487), so the phone is the only witness. A report verifies nothing and changes no step: it is recorded on the
 * attempt, told as an `attempt.reported` event and counted by the delivery measurement (delivery-measure.ts).
 *
 * A retry of a report changes nothing, so a client that repeats a request does not count twice. The first report
 * stands, except that a call reported `not_received` may still show up: `late` or `received` then replaces it, and
 * its event names the report it replaces, so that the measurement counts each call by its latest report only.
 */
import { type Change, refuse } from "./change.js";
import type { Attempt, PhoneReport, ReportOutcome, ReportSource, Verification } from "./types.js";

export interface ReportInput {
  outcome: ReportOutcome;
  source: ReportSource;
}

/**
 * The flash call a report is about: the verification's latest. A shadow-blocked call is one too: its client was
 * shown a missed call, and a refusal here would tell it otherwise. The measurement leaves such reports out.
 */
export function reportedAttempt(v: Verification): Attempt | undefined {
  return v.attempts.findLast((a) => a.channel === "flashcall");
}

/** Whether `next` says more than `earlier` did: only a call that did arrive after all. */
function supersedes(earlier: PhoneReport | null | undefined, next: ReportInput): boolean {
  if (!earlier) return true;
  return earlier.outcome === "not_received" && next.outcome !== "not_received";
}

/** Records the phone's report on the latest flash call; nothing when it repeats (or weakens) what was said. */
export function fileReport(current: Verification, input: ReportInput, at: number): Change {
  const target = reportedAttempt(current);
  if (!target) return refuse("NOTHING_TO_REPORT");
  if (!supersedes(target.phoneReport, input)) return undefined;
  const v = { ...current, attempts: current.attempts.map((a) => ({ ...a })) };
  const attempt = v.attempts.find((a) => a.id === target.id) as Attempt;
  attempt.phoneReport = { outcome: input.outcome, source: input.source, at };
  v.updatedAt = Math.max(v.updatedAt, at);
  v.version += 1;
  const earlier = target.phoneReport;
  // The measurement counts the call once, by its latest report: it takes back the count of the one replaced.
  const data = { channel: attempt.channel, outcome: input.outcome, source: input.source };
  const replaced = earlier ? { replaces: earlier.outcome, replaces_at: new Date(earlier.at).toISOString() } : {};
  return {
    verification: v,
    events: [
      { type: "attempt.reported", verificationId: v.id, attemptId: attempt.id, at, data: { ...data, ...replaced } },
    ],
  };
}
