/**
 * Turns step measurements into what a person reads: one line per step as it finishes, then a markdown table with
 * one row per rate (medians over rounds: the machine is shared and noisy) ready to paste into the README, and the
 * highest rate that ran with zero errors in every round.
 */
import type { CallOutcomes, Window } from "./call-outcomes.js";
import type { ErrorCounts, StepLoadResult } from "./protocol.js";
import { median } from "./stats.js";

/** One step of one round: the load process's figures plus what the harness read from /proc. */
export interface StepRecord extends StepLoadResult {
  round: number;
  serverCpuPercent: number;
  loadCpuPercent: number;
  /** everything else on the machine during the step: the noise */
  otherCpuPercent: number;
  serverPeakRssMiB: number;
  serverRssMiB: number;
  totalErrors: number;
  /** the p99 of the server's event-loop delay during the step, ms (the highest of the nodes'; NaN if unread) */
  serverLoopDelayP99Ms: number;
  /** how long the server kept working after the step ended (its leftover queue) */
  serverBusyAfterSeconds: number;
  /** SIP datagrams lost to full receive buffers during the step, and the server's unread backlog at its end */
  udp: { serverDrops: number; handsetDrops: number; serverBacklogBytes: number };
  /** wall-clock span of the step, to find its calls in the server's database */
  window: Window;
  /** the server's record of this step's calls, once read after the run */
  calls: CallOutcomes | null;
}

export interface TableRow {
  rate: number;
  rounds: number;
  completedPerSecond: number;
  startP50: number;
  startP99: number;
  inviteP50: number;
  inviteP99: number;
  /** start -> INVITE on the wire, from the server's record (NaN until it is read) */
  inviteSentP50: number;
  inviteSentP99: number;
  verifiedP50: number;
  verifiedP99: number;
  serverCpuPercent: number;
  loadCpuPercent: number;
  otherCpuPercent: number;
  serverPeakRssMiB: number;
  /** CPU time per completed verification, ms: what each verification cost the server and the load process */
  serverCpuMsPerVerification: number;
  loadCpuMsPerVerification: number;
  /** summed over rounds */
  errors: number;
  failedRounds: number;
  /** SIP datagrams the server's socket dropped, summed over rounds */
  sipDrops: number;
  /** attempts the server recorded as failed, summed over rounds; null when its database could not be read */
  callsFailed: number | null;
  callsTotal: number | null;
}

/** A step keeps up when it completes at least this share of the offered rate. */
export const KEPT_UP_RATIO = 0.95;

export function stepLine(r: StepRecord): string {
  const behind = r.completedPerSecond < r.rate * KEPT_UP_RATIO;
  const status = r.aborted
    ? `FAILED (${r.aborted})`
    : r.totalErrors > 0
      ? "errors"
      : behind
        ? "ok but fell behind"
        : "ok";
  return [
    `${r.label.padEnd(16)} offered ${r.rate}/s: completed ${r.completedPerSecond}/s (${r.verified}/${r.sent})`,
    `start p50/p99 ${r.startLatencyMs.p50}/${r.startLatencyMs.p99} ms`,
    `start->INVITE at handset p50/p99 ${r.startToInviteMs.p50}/${r.startToInviteMs.p99} ms`,
    `start->verified p50/p99 ${r.startToVerifiedMs.p50}/${r.startToVerifiedMs.p99} ms`,
    `CPU server ${r.serverCpuPercent}% load ${r.loadCpuPercent}% others ${r.otherCpuPercent}%`,
    `server RSS ${r.serverRssMiB} MiB (peak ${r.serverPeakRssMiB})`,
    `errors ${r.totalErrors}${r.totalErrors > 0 ? ` ${describeErrors(r.errors)}` : ""}`,
    `SIP drops server ${r.udp.serverDrops} handsets ${r.udp.handsetDrops}, server unread ${Math.round(r.udp.serverBacklogBytes / 1024)} KiB`,
    `server lag p99 ${r.serverLoopDelayP99Ms} ms, load lag p99 ${r.loadLoopDelayP99Ms} ms, peak in flight ${r.peakInFlight}${r.abortedRequests ? `, ${r.abortedRequests} requests dropped` : ""}`,
    status,
  ].join(" | ");
}

export function describeErrors(e: ErrorCounts): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(e.startStatus)) parts.push(`start ${k}: ${v}`);
  for (const [k, v] of Object.entries(e.checkNotVerified)) parts.push(`check ${k}: ${v}`);
  if (e.neverCompleted) parts.push(`never completed: ${e.neverCompleted}`);
  if (e.socket) parts.push(`socket: ${e.socket}`);
  if (e.unexpectedCalls) parts.push(`unexpected calls: ${e.unexpectedCalls}`);
  return `(${parts.join(", ")})`;
}

/** One row per rate, in the order the rates were given. */
export function tableRows(records: readonly StepRecord[], rates: readonly number[]): TableRow[] {
  const rows: TableRow[] = [];
  for (const rate of rates) {
    const rs = records.filter((r) => r.rate === rate);
    if (rs.length === 0) continue;
    const med = (f: (r: StepRecord) => number) => median(rs.map(f));
    rows.push({
      rate,
      rounds: rs.length,
      completedPerSecond: med((r) => r.completedPerSecond),
      startP50: med((r) => r.startLatencyMs.p50),
      startP99: med((r) => r.startLatencyMs.p99),
      inviteP50: med((r) => r.startToInviteMs.p50),
      inviteP99: med((r) => r.startToInviteMs.p99),
      inviteSentP50: med((r) => r.calls?.startToInviteSentMs.p50 ?? Number.NaN),
      inviteSentP99: med((r) => r.calls?.startToInviteSentMs.p99 ?? Number.NaN),
      verifiedP50: med((r) => r.startToVerifiedMs.p50),
      verifiedP99: med((r) => r.startToVerifiedMs.p99),
      serverCpuPercent: med((r) => r.serverCpuPercent),
      loadCpuPercent: med((r) => r.loadCpuPercent),
      otherCpuPercent: med((r) => r.otherCpuPercent),
      serverPeakRssMiB: Math.max(...rs.map((r) => r.serverPeakRssMiB)),
      serverCpuMsPerVerification: med((r) => cpuMsPerVerification(r.serverCpuPercent, r.completedPerSecond)),
      loadCpuMsPerVerification: med((r) => cpuMsPerVerification(r.loadCpuPercent, r.completedPerSecond)),
      errors: rs.reduce((sum, r) => sum + r.totalErrors, 0),
      failedRounds: rs.filter((r) => r.aborted !== null).length,
      sipDrops: rs.reduce((sum, r) => sum + r.udp.serverDrops, 0),
      callsFailed: rs.every((r) => r.calls) ? rs.reduce((sum, r) => sum + r.calls!.failed, 0) : null,
      callsTotal: rs.every((r) => r.calls) ? rs.reduce((sum, r) => sum + r.calls!.total, 0) : null,
    });
  }
  return rows;
}

/** CPU % of one core at `perSecond` completions/s, as ms of CPU per completion (NaN with none completed). */
function cpuMsPerVerification(cpuPercent: number, perSecond: number): number {
  return perSecond > 0 ? (cpuPercent * 10) / perSecond : Number.NaN;
}

/**
 * What the machine itself allows: the load process and the server share its cores, so their CPU per verification
 * bounds the rate any run here can show, however fast either becomes. Read at the step that completed the most
 * (per-verification costs fall as batches grow, so that step gives the most generous bound). The load process's
 * JavaScript runs on one thread, so it alone cannot go past one core. Undefined when nothing completed.
 */
export function machineBound(
  rows: readonly TableRow[],
  cores: number,
): { row: TableRow; loadAlonePerSecond: number; bothPerSecond: number } | undefined {
  const row = rows
    .filter((r) => r.completedPerSecond > 0)
    .sort((a, b) => b.completedPerSecond - a.completedPerSecond)[0];
  if (!row) return undefined;
  return {
    row,
    loadAlonePerSecond: 1000 / row.loadCpuMsPerVerification,
    bothPerSecond: (cores * 1000) / (row.loadCpuMsPerVerification + row.serverCpuMsPerVerification),
  };
}

/** The highest rate whose every round finished without a single error. */
export function bestCleanRow(rows: readonly TableRow[]): TableRow | undefined {
  return rows.filter((r) => r.errors === 0 && r.failedRounds === 0).sort((a, b) => b.rate - a.rate)[0];
}

/**
 * The highest rate that ran without errors, completed (in the median) at least 95% of what was offered, and whose
 * SIP side kept up too: no datagram dropped by the server's socket, no call recorded as failed.
 */
export function bestSustainedRow(rows: readonly TableRow[]): TableRow | undefined {
  return bestCleanRow(
    rows.filter((r) => r.completedPerSecond >= r.rate * KEPT_UP_RATIO && r.sipDrops === 0 && !r.callsFailed),
  );
}

export function markdownTable(rows: readonly TableRow[]): string {
  const header = [
    "offered /s",
    "completed /s",
    "start p50 / p99 ms",
    "start→INVITE sent p50 / p99 ms",
    "start→INVITE at handset p50 / p99 ms",
    "start→verified p50 / p99 ms",
    "server CPU %",
    "load CPU %",
    "server / load CPU ms per verification",
    "other CPU %",
    "server peak RSS MiB",
    "errors",
    "SIP drops",
    "calls failed",
  ];
  const lines = [`| ${header.join(" | ")} |`, `|${header.map((h) => `${"-".repeat(h.length + 1)}:`).join("|")}|`];
  for (const r of rows) {
    const errors = r.failedRounds > 0 ? `${r.errors}, ${r.failedRounds}/${r.rounds} aborted` : String(r.errors);
    const calls = r.callsFailed === null ? "-" : `${r.callsFailed} of ${r.callsTotal}`;
    const cells = [
      r.rate,
      fixed(r.completedPerSecond, 0),
      `${fixed(r.startP50, 1)} / ${fixed(r.startP99, 1)}`,
      `${fixed(r.inviteSentP50, 0)} / ${fixed(r.inviteSentP99, 0)}`,
      `${fixed(r.inviteP50, 1)} / ${fixed(r.inviteP99, 1)}`,
      `${fixed(r.verifiedP50, 1)} / ${fixed(r.verifiedP99, 1)}`,
      fixed(r.serverCpuPercent, 0),
      fixed(r.loadCpuPercent, 0),
      `${fixed(r.serverCpuMsPerVerification, 2)} / ${fixed(r.loadCpuMsPerVerification, 2)}`,
      fixed(r.otherCpuPercent, 0),
      fixed(r.serverPeakRssMiB, 0),
      errors,
      r.sipDrops,
      calls,
    ];
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

function fixed(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : "-";
}
