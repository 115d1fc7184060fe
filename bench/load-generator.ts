/**
 * The open-loop load generator: starts verifications at a fixed rate whatever the server's latency (a closed loop
 * would slow down with the server and hide its queueing), and plays the app on every phone: when the handset sees
 * the flash call it reports the caller ID to the check endpoint with the verification's client token, as an Android
 * app reading its call log would.
 *
 * The INVITE can reach the handset before the 201 reaches us (the server dispatches the call before it answers),
 * so a caller ID that arrives first waits for its verification id, exactly like an app whose backend is slower
 * than the carrier. Latencies are measured from each request's scheduled send time, so a generator that falls
 * behind is charged to the latency, never silently dropped (no coordinated omission).
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { JsonClient, JsonResponse } from "./http-client.js";
import type { PhoneNumbers } from "./phone-numbers.js";
import type { ErrorCounts, StepLoadResult, StepRequest } from "./protocol.js";
import { totalErrors } from "./protocol.js";
import { percentiles } from "./stats.js";

/** How often the generator looks at the clock to send what is due; Node's timers do not go below 1 ms. */
const TICK_MS = 1;
/** Abort a step once this many errors happened and they are more than ERROR_RATIO of what was sent. */
const MIN_ERRORS_TO_ABORT = 50;
const ERROR_RATIO = 0.01;
/** Abort a step once more verifications are in flight than this many seconds of offered load. */
const BACKLOG_SECONDS = 2;
const MIN_BACKLOG = 500;
/** The loop-delay histogram records whole timer intervals, so this much is subtracted to leave the lateness. */
const LOOP_DELAY_RESOLUTION_MS = 10;

export interface Progress {
  second: number;
  sent: number;
  verified: number;
  inFlight: number;
  errors: number;
}

interface StepState {
  request: StepRequest;
  t0: number;
  sent: number;
  started: number;
  verified: number;
  inFlight: number;
  peakInFlight: number;
  lastVerifiedAt: number;
  startLatency: number[];
  startToInvite: number[];
  startToVerified: number[];
  startDueAt: Record<string, number>;
  errors: ErrorCounts;
}

/** One verification as the generator and its "app" know it. */
interface Pending {
  phone: string;
  step: StepState;
  /** performance.now() when the start was due */
  due: number;
  id: string | null;
  token: string | null;
  /** the caller ID the handset saw, when the call came before the 201 */
  callerId: string | null;
  settled: boolean;
}

interface StartedBody {
  id: string;
  client_token: string;
}

export class LoadGenerator {
  private readonly pending = new Map<string, Pending>();
  /** numbers given up on at a drain's end: a call still arriving for them is not a new error */
  private readonly abandoned = new Set<string>();
  private current: StepState | null = null;
  private nextBackend = 0;
  private nextApp = 0;

  /**
   * @param backends the customer's backend, which starts verifications: one client per server process, used in
   *   turn like a round-robin load balancer, so a check usually lands on another process than its start
   * @param apps the phones' apps, which check them: separate connections, so a check never queues in the client
   *   behind the backend's starts (on the real network they come from different machines)
   */
  constructor(
    private readonly backends: readonly JsonClient[],
    private readonly apps: readonly JsonClient[],
    private readonly apiKey: string,
    private readonly phones: PhoneNumbers,
  ) {}

  /** The handset's hook: a flash call to `to` arrived showing `from`. */
  onIncomingCall(to: string, from: string): void {
    const entry = this.pending.get(to);
    if (!entry) {
      if (!this.abandoned.has(to) && this.current) this.current.errors.unexpectedCalls++;
      return;
    }
    if (entry.callerId !== null) {
      entry.step.errors.unexpectedCalls++; // a second call to one verification
      return;
    }
    entry.callerId = from;
    entry.step.startToInvite.push(performance.now() - entry.due);
    if (entry.id !== null) this.check(entry);
  }

  /** Runs one step: sends for `seconds`, then waits up to `drainSeconds` for the verifications still in flight. */
  async runStep(request: StepRequest, onProgress: (p: Progress) => void): Promise<StepLoadResult> {
    const step: StepState = {
      request,
      t0: performance.now(),
      sent: 0,
      started: 0,
      verified: 0,
      inFlight: 0,
      peakInFlight: 0,
      lastVerifiedAt: 0,
      startLatency: [],
      startToInvite: [],
      startToVerified: [],
      startDueAt: {},
      errors: { startStatus: {}, checkNotVerified: {}, neverCompleted: 0, socket: 0, unexpectedCalls: 0 },
    };
    this.current = step;
    const loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
    loopDelay.enable();

    const aborted = await this.send(step, onProgress);
    const sentSeconds = (performance.now() - step.t0) / 1000;
    await this.drain(step, request.drainSeconds);
    loopDelay.disable();
    let abortedRequests = 0;
    for (const client of [...this.backends, ...this.apps]) abortedRequests += client.abortPending();

    const elapsedMs = Math.max(sentSeconds * 1000, step.lastVerifiedAt - step.t0);
    return {
      label: request.label,
      rate: request.rate,
      seconds: request.seconds,
      sentSeconds: round(sentSeconds, 3),
      elapsedSeconds: round(elapsedMs / 1000, 3),
      aborted,
      sent: step.sent,
      started: step.started,
      verified: step.verified,
      completedPerSecond: round(step.verified / (elapsedMs / 1000), 1),
      startLatencyMs: percentiles(step.startLatency),
      startToInviteMs: percentiles(step.startToInvite),
      startDueAt: step.startDueAt,
      startToVerifiedMs: percentiles(step.startToVerified),
      errors: step.errors,
      loadLoopDelayP99Ms: round(Math.max(0, loopDelay.percentile(99) / 1e6 - LOOP_DELAY_RESOLUTION_MS), 1),
      peakInFlight: step.peakInFlight,
      abortedRequests,
    };
  }

  /** The sending window; resolves with the reason it was cut short, or null. */
  private send(step: StepState, onProgress: (p: Progress) => void): Promise<string | null> {
    const { rate, seconds } = step.request;
    const total = Math.round(rate * seconds);
    const interval = 1000 / rate;
    const backlogLimit = Math.max(MIN_BACKLOG, rate * BACKLOG_SECONDS);
    return new Promise((resolve) => {
      let nextReport = 1;
      const finish = (reason: string | null) => {
        clearInterval(timer);
        resolve(reason);
      };
      const timer = setInterval(() => {
        const now = performance.now();
        const elapsed = now - step.t0;
        const due = Math.min(total, Math.floor(elapsed / interval) + 1);
        while (step.sent < due) this.start(step, step.t0 + step.sent * interval);
        if (elapsed >= nextReport * 1000) {
          onProgress({ second: nextReport, ...this.snapshot(step) });
          nextReport++;
          const errors = totalErrors(step.errors);
          if (errors >= MIN_ERRORS_TO_ABORT && errors > step.sent * ERROR_RATIO) return finish(`${errors} errors`);
          if (step.inFlight > backlogLimit) return finish(`backlog of ${step.inFlight} in flight`);
        }
        if (step.sent >= total) finish(null);
      }, TICK_MS);
    });
  }

  private snapshot(step: StepState): Omit<Progress, "second"> {
    return { sent: step.sent, verified: step.verified, inFlight: step.inFlight, errors: totalErrors(step.errors) };
  }

  /** Waits for the step's verifications; whatever is still open at the deadline never completed. */
  private async drain(step: StepState, drainSeconds: number): Promise<void> {
    const deadline = performance.now() + drainSeconds * 1000;
    while (step.inFlight > 0 && performance.now() < deadline) await sleep(5);
    for (const entry of this.pending.values()) {
      if (entry.step !== step) continue;
      this.settle(entry);
      step.errors.neverCompleted++;
      this.abandoned.add(entry.phone);
    }
  }

  private start(step: StepState, due: number): void {
    const entry: Pending = {
      phone: this.phones.next(),
      step,
      due,
      id: null,
      token: null,
      callerId: null,
      settled: false,
    };
    this.pending.set(entry.phone, entry);
    step.sent++;
    step.inFlight++;
    if (step.inFlight > step.peakInFlight) step.peakInFlight = step.inFlight;
    const backend = this.backends[this.nextBackend++ % this.backends.length] as JsonClient;
    backend.post("/v1/verifications", this.apiKey, { phone: entry.phone }).then(
      (response) => this.onStarted(entry, response),
      () => this.onSocketError(entry),
    );
  }

  private onStarted(entry: Pending, response: JsonResponse): void {
    if (entry.settled) return;
    const step = entry.step;
    if (response.status !== 201 || !isStartedBody(response.body)) {
      bump(step.errors.startStatus, `${response.status} ${errorCode(response.body)}`);
      this.settle(entry);
      return;
    }
    step.started++;
    step.startLatency.push(performance.now() - entry.due);
    entry.id = response.body.id;
    step.startDueAt[entry.id] = performance.timeOrigin + entry.due;
    entry.token = response.body.client_token;
    if (entry.callerId !== null) this.check(entry);
  }

  private check(entry: Pending): void {
    const path = `/v1/verifications/${entry.id}/check`;
    const app = this.apps[this.nextApp++ % this.apps.length] as JsonClient;
    app.post(path, entry.token!, { caller_id: entry.callerId }).then(
      (response) => this.onChecked(entry, response),
      () => this.onSocketError(entry),
    );
  }

  private onChecked(entry: Pending, response: JsonResponse): void {
    if (entry.settled) return;
    const step = entry.step;
    const status = verificationStatus(response.body);
    if (response.status === 200 && status === "verified") {
      const now = performance.now();
      step.verified++;
      step.startToVerified.push(now - entry.due);
      step.lastVerifiedAt = now;
    } else {
      bump(step.errors.checkNotVerified, `${response.status} ${status ?? errorCode(response.body)}`);
    }
    this.settle(entry);
  }

  private onSocketError(entry: Pending): void {
    if (entry.settled) return;
    entry.step.errors.socket++;
    this.settle(entry);
  }

  private settle(entry: Pending): void {
    entry.settled = true;
    entry.step.inFlight--;
    this.pending.delete(entry.phone);
  }
}

function isStartedBody(body: unknown): body is StartedBody {
  if (typeof body !== "object" || body === null) return false;
  const b = body as Record<string, unknown>;
  return typeof b.id === "string" && typeof b.client_token === "string";
}

function verificationStatus(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const status = (body as Record<string, unknown>).status;
  return typeof status === "string" ? status : undefined;
}

/** The `error.code` of an error body, or "?" when the body is not one. */
function errorCode(body: unknown): string {
  if (typeof body !== "object" || body === null) return "?";
  const error = (body as Record<string, unknown>).error;
  if (typeof error !== "object" || error === null) return "?";
  const code = (error as Record<string, unknown>).code;
  return typeof code === "string" ? code : "?";
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
