/**
 * The server's own record of the calls, read from its SQLite file after it stopped: what each flash call ended as
 * and how long it lasted. The client only sees verifications complete; a SIP side that falls behind (calls that
 * end by timer instead of by 487, calls lasting seconds with a ring time of 0) shows only here. It reads the
 * schema's `attempts` table; if the schema moves on, it says so instead of failing the run.
 */
import Database from "better-sqlite3";
import { percentileOfSorted } from "./stats.js";

export interface CallOutcomes {
  /** "status/reason" -> attempts */
  outcomes: Record<string, number>;
  /** dialed_at -> ended_at of ended attempts, ms */
  durationMs: { p50: number; p99: number; max: number };
  /** attempts never ended (the server stopped first) */
  unfinished: number;
}

export function readCallOutcomes(file: string): CallOutcomes {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const outcomes: Record<string, number> = {};
    const rows = db
      .prepare("select status, reason, count(*) as n from attempts group by status, reason order by n desc")
      .all() as { status: string; reason: string | null; n: number }[];
    for (const r of rows) outcomes[`${r.status}/${r.reason ?? "-"}`] = r.n;
    const durations = db
      .prepare("select ended_at - dialed_at as d from attempts where ended_at is not null and dialed_at is not null")
      .all() as { d: number }[];
    const sorted = Float64Array.from(durations.map((r) => Number(r.d))).sort();
    const unfinished = db.prepare("select count(*) as n from attempts where ended_at is null").get() as { n: number };
    return {
      outcomes,
      durationMs: {
        p50: percentileOfSorted(sorted, 50),
        p99: percentileOfSorted(sorted, 99),
        max: percentileOfSorted(sorted, 100),
      },
      unfinished: unfinished.n,
    };
  } finally {
    db.close();
  }
}

export function describeCallOutcomes(c: CallOutcomes): string[] {
  const total = Object.values(c.outcomes).reduce((a, b) => a + b, 0);
  const lines = Object.entries(c.outcomes).map(
    ([k, n]) => `  ${String(n).padStart(8)}  ${((n / total) * 100).toFixed(1).padStart(5)}%  ${k}`,
  );
  return [
    `\ncalls as the server recorded them (whole run, ${total} attempts):`,
    ...lines,
    `  call duration dial -> end: p50 ${c.durationMs.p50} ms, p99 ${c.durationMs.p99} ms, max ${c.durationMs.max} ms` +
      ` (ring time 0: a healthy call lasts a few ms)`,
    `  attempts never ended: ${c.unfinished}`,
  ];
}
