/**
 * The messages between the harness (run.ts) and the load process (load.ts) over the fork() IPC channel. One shared
 * definition keeps both sides honest; the guard is deliberately shallow because both ends are this folder's code.
 */

/** What the load process measured during one step (everything but CPU and RSS, which the harness samples). */
export interface StepLoadResult {
  label: string;
  /** requested verifications started per second */
  rate: number;
  /** configured length of the sending window */
  seconds: number;
  /** how long the sending window really lasted (shorter when the step was aborted) */
  sentSeconds: number;
  /** from the step's start to the last verification answered `verified` (window + drain) */
  elapsedSeconds: number;
  aborted: string | null;
  sent: number;
  started: number;
  verified: number;
  /** verified / elapsedSeconds */
  completedPerSecond: number;
  startLatencyMs: Percentiles;
  /**
   * from the start request to its flash call's INVITE reaching the handset (which may precede the 201): includes the
   * load process's own delay in reading the INVITE
   */
  startToInviteMs: Percentiles;
  /**
   * when each started verification's start request was due, epoch ms, by verification id: the harness joins it with
   * the server's record of when that verification's INVITE left (start -> INVITE on the wire)
   */
  startDueAt: Record<string, number>;
  startToVerifiedMs: Percentiles;
  errors: ErrorCounts;
  /** the load process's own event-loop delay: when this is high the generator, not the server, is the limit */
  loadLoopDelayP99Ms: number;
  /** the most verifications in flight at once */
  peakInFlight: number;
  /** HTTP requests still unanswered after the drain, dropped so they do not spill into the next step */
  abortedRequests: number;
}

export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}

export interface ErrorCounts {
  /** non-201 answers to POST /v1/verifications, by status */
  startStatus: Record<string, number>;
  /** check answers that were not 200 + verified, by "status/verification status" */
  checkNotVerified: Record<string, number>;
  /** started verifications whose call never reached a handset, or whose check never answered, by the drain end */
  neverCompleted: number;
  /** transport failures: ECONNRESET, timeouts, ... */
  socket: number;
  /** calls to a number the generator never asked for, or a second call to one number */
  unexpectedCalls: number;
}

export function totalErrors(e: ErrorCounts): number {
  const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  return sum(e.startStatus) + sum(e.checkNotVerified) + e.neverCompleted + e.socket + e.unexpectedCalls;
}

export interface StepRequest {
  label: string;
  rate: number;
  seconds: number;
  /** how long to wait after the window for verifications still in flight */
  drainSeconds: number;
}

export type ToLoad =
  /** one base URL per server process; requests go to them in turn, as through a round-robin load balancer */
  | { type: "configure"; baseUrls: string[]; apiKey: string; maxSockets: number }
  | { type: "step"; step: StepRequest }
  | { type: "stop" };

export type FromLoad =
  | { type: "ready"; sip: { address: string; port: number } }
  | {
      type: "progress";
      label: string;
      second: number;
      sent: number;
      verified: number;
      inFlight: number;
      errors: number;
    }
  | { type: "step-done"; result: StepLoadResult }
  | { type: "fatal"; message: string };

/** Narrows an IPC message to one of ours by its `type` tag. */
export function isMessage<T extends { type: string }>(value: unknown, types: readonly T["type"][]): value is T {
  if (typeof value !== "object" || value === null || !("type" in value)) return false;
  const type = (value as { type: unknown }).type;
  return typeof type === "string" && (types as readonly string[]).includes(type);
}
