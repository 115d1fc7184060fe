/**
 * The server's own record of the calls, read from its SQLite file after it stopped (PostgreSQL: shared-store.ts): what each flash call ended as
 * and how long it lasted, per step (attempts are attributed to a step by their creation time). The client only sees
 * verifications complete; a SIP side that falls behind (calls recorded as failed although the phone rang, calls
 * lasting seconds with a ring time of 0) shows only here. It reads the schema's `attempts` table; if the schema
 * moves on, the harness says so instead of failing the run.
 */
import Database from "better-sqlite3";
import { percentileOfSorted } from "./stats.js";

export interface CallOutcomes {
  /** attempts created in the window */
  total: number;
  /** attempts recorded as failed (with ring time 0 and healthy handsets, every call should be delivered) */
  failed: number;
  /** "status/reason" -> attempts */
  outcomes: Record<string, number>;
  /** dialed_at -> ended_at of ended attempts, ms (ring time 0: a healthy call lasts a few ms) */
  durationMs: { p50: number; p99: number; max: number };
  /**
   * created_at -> invited_at of the attempts that dialled, ms: the server's own share of start -> INVITE, from the
   * attempt's creation (the start request already parsed and screened) to the UAC thread sending the INVITE
   */
  inviteDelayMs: { p50: number; p99: number; max: number };
  /**
   * from each start request's due time (the load generator's clock) to its INVITE leaving the server (the UAC
   * thread's clock, whole ms): start -> INVITE on the wire, without the load process's delay in reading it
   */
  startToInviteSentMs: { p50: number; p99: number; max: number };
  /** attempts never ended (the server stopped first) */
  unfinished: number;
}

/** A period of wall-clock time, epoch ms, inclusive. */
export interface Window {
  from: number;
  to: number;
}

/** A period of wall-clock time, epoch ms, inclusive, and when each of its starts was due (by verification id). */
export interface StepWindow extends Window {
  startDueAt: Readonly<Record<string, number>>;
}

/** The columns summariseAttempts reads, as both stores' queries name them. */
export const ATTEMPT_COLUMNS =
  "verification_id, status, reason, ended_at - dialed_at as duration, invited_at - created_at as invite_delay, invited_at";

/** Reads the outcomes of the attempts created in each window (one answer per window, same order). */
export function readCallOutcomes(file: string, windows: readonly StepWindow[]): CallOutcomes[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const query = db.prepare(`select ${ATTEMPT_COLUMNS} from attempts where created_at between ? and ?`);
    return windows.map((w) => summariseAttempts(query.all(w.from, w.to) as AttemptRow[], w.startDueAt));
  } finally {
    db.close();
  }
}

export interface AttemptRow {
  verification_id: string;
  status: string;
  reason: string | null;
  duration: number | null;
  invite_delay: number | null;
  invited_at: number | null;
}

export function summariseAttempts(
  rows: readonly AttemptRow[],
  startDueAt: Readonly<Record<string, number>>,
): CallOutcomes {
  const outcomes: Record<string, number> = {};
  const durations: number[] = [];
  const inviteDelays: number[] = [];
  const startToInviteSent: number[] = [];
  let failed = 0;
  let unfinished = 0;
  for (const r of rows) {
    const key = `${r.status}/${r.reason ?? "-"}`;
    outcomes[key] = (outcomes[key] ?? 0) + 1;
    if (r.status === "failed") failed++;
    if (r.duration === null) unfinished++;
    else durations.push(Number(r.duration));
    if (r.invite_delay !== null) inviteDelays.push(Number(r.invite_delay));
    const due = startDueAt[r.verification_id];
    if (r.invited_at !== null && due !== undefined) startToInviteSent.push(Number(r.invited_at) - due);
  }
  return {
    total: rows.length,
    failed,
    outcomes,
    durationMs: spread(durations),
    inviteDelayMs: spread(inviteDelays),
    startToInviteSentMs: spread(startToInviteSent),
    unfinished,
  };
}

function spread(values: number[]): { p50: number; p99: number; max: number } {
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) => Math.round(percentileOfSorted(sorted, p) * 10) / 10;
  return { p50: at(50), p99: at(99), max: at(100) };
}

export function describeCallOutcomes(label: string, c: CallOutcomes): string {
  const parts = Object.entries(c.outcomes)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`);
  const d = c.durationMs;
  const i = c.inviteDelayMs;
  const s = c.startToInviteSentMs;
  return (
    `${label.padEnd(16)} ${c.total} calls: ${parts.join(", ")}; dial->end p50/p99/max ${d.p50}/${d.p99}/${d.max} ms; ` +
    `INVITE sent p50/p99/max after the start was due ${s.p50}/${s.p99}/${s.max} ms, after its attempt was created ` +
    `${i.p50}/${i.p99}/${i.max} ms` +
    (c.unfinished ? `; ${c.unfinished} never ended` : "")
  );
}
