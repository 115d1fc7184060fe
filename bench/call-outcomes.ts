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
  /** attempts never ended (the server stopped first) */
  unfinished: number;
}

/** A period of wall-clock time, epoch ms, inclusive. */
export interface Window {
  from: number;
  to: number;
}

/** Reads the outcomes of the attempts created in each window (one answer per window, same order). */
export function readCallOutcomes(file: string, windows: readonly Window[]): CallOutcomes[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const query = db.prepare(
      "select status, reason, ended_at - dialed_at as duration from attempts where created_at between ? and ?",
    );
    return windows.map((w) => summariseAttempts(query.all(w.from, w.to) as AttemptRow[]));
  } finally {
    db.close();
  }
}

export interface AttemptRow {
  status: string;
  reason: string | null;
  duration: number | null;
}

export function summariseAttempts(rows: readonly AttemptRow[]): CallOutcomes {
  const outcomes: Record<string, number> = {};
  const durations: number[] = [];
  let failed = 0;
  let unfinished = 0;
  for (const r of rows) {
    const key = `${r.status}/${r.reason ?? "-"}`;
    outcomes[key] = (outcomes[key] ?? 0) + 1;
    if (r.status === "failed") failed++;
    if (r.duration === null) unfinished++;
    else durations.push(Number(r.duration));
  }
  const sorted = Float64Array.from(durations).sort();
  return {
    total: rows.length,
    failed,
    outcomes,
    durationMs: {
      p50: percentileOfSorted(sorted, 50),
      p99: percentileOfSorted(sorted, 99),
      max: percentileOfSorted(sorted, 100),
    },
    unfinished,
  };
}

export function describeCallOutcomes(label: string, c: CallOutcomes): string {
  const parts = Object.entries(c.outcomes)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`);
  const d = c.durationMs;
  return (
    `${label.padEnd(16)} ${c.total} calls: ${parts.join(", ")}; dial->end p50/p99/max ${d.p50}/${d.p99}/${d.max} ms` +
    (c.unfinished ? `; ${c.unfinished} never ended` : "")
  );
}
