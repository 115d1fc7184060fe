/**
 * The per-range report behind `analyze --report FILE`: for each calling range, its calls, the share flagged, the
 * unbilled minutes and what they would have earned at the configured per-call charge. A flash call is billed, when
 * an operator bills it, as one minimum charging unit (a minute), so each flagged call of an unknown sender counts one
 * unbilled minute; a known sender's calls are under contract and earn nothing extra.
 */
import type { Analysis } from "./analyze.js";
import { csvField } from "./analyze.js";
import type { FirewallConfig } from "./config.js";

export interface RangeRow {
  range: string;
  sender: string;
  calls: number;
  flagged: number;
  unbilledMinutes: number;
  revenue: number;
  /** flagged calls per hour (UTC) from `firstHour` */
  hourly: number[];
  topFactor: string;
}

export interface RangeReport {
  firstHour: number;
  hours: number;
  currency: string;
  rows: RangeRow[];
}

const HOUR = 3_600_000;

export function rangeReport(a: Analysis, config: FirewallConfig): RangeReport {
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  for (const r of a.records) {
    if (r.start < first) first = r.start;
    if (r.start > last) last = r.start;
  }
  const firstHour = Number.isFinite(first) ? Math.floor(first / HOUR) * HOUR : 0;
  const hours = Number.isFinite(first) ? Math.floor((last - firstHour) / HOUR) + 1 : 0;
  const rows = new Map<string, RangeRow>();
  a.records.forEach((r, i) => {
    const v = a.verdicts[i];
    if (!v) return;
    let row = rows.get(v.range);
    if (!row) {
      const sender = v.sender === "known" ? `known: ${v.senderName}` : v.sender === "never" ? "never-flag" : "unknown";
      row = {
        range: v.range,
        sender,
        calls: 0,
        flagged: 0,
        unbilledMinutes: 0,
        revenue: 0,
        hourly: new Array(hours).fill(0),
        topFactor: "",
      };
      rows.set(v.range, row);
    }
    row.calls++;
    if (v.label !== "flashcall") return;
    row.flagged++;
    const hour = Math.floor((r.start - firstHour) / HOUR);
    row.hourly[hour] = (row.hourly[hour] as number) + 1;
    if (!row.topFactor) row.topFactor = a.explain(i)[0]?.feature ?? "";
    if (v.sender === "unknown") {
      row.unbilledMinutes++;
      row.revenue += config.charge_per_call;
    }
  });
  const sorted = [...rows.values()].sort(
    (x, y) => y.flagged - x.flagged || y.calls - x.calls || (x.range < y.range ? -1 : 1),
  );
  return { firstHour, hours, currency: config.currency, rows: sorted };
}

/** The report as CSV, one line per calling range, most flagged first. */
export function* reportLines(report: RangeReport): Generator<string> {
  yield "range,sender,calls,flagged,flagged_share,unbilled_minutes,revenue,currency,top_factor";
  for (const r of report.rows) {
    yield [
      r.range,
      csvField(r.sender),
      r.calls,
      r.flagged,
      (r.flagged / r.calls).toFixed(4),
      r.unbilledMinutes,
      r.revenue.toFixed(2),
      report.currency,
      csvField(r.topFactor),
    ].join(",");
  }
}
