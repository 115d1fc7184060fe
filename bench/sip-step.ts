/**
 * One step of `npm run bench:sip` on our side: the full flash-call path without HTTP or a database — the flash-call
 * channel, the trunk layer (route, limits, breaker, failover bookkeeping) and the trunk's UAC in its worker thread,
 * with all their timers and records — placing calls open-loop at `rate` per second for `seconds` against a SIPp
 * handset that rings and answers our CANCEL with 487. Every call must end `ringing_canceled` with 487.
 */
import { createFlashcallSipChannel } from "../src/channels/flashcall-sip/index.js";
import type { AttemptOutcome } from "../src/core/ports.js";
import type { TrunkRouter } from "../src/sip/trunks/index.js";
import { sampleUdp } from "./proc-stats.js";
import { percentiles } from "./stats.js";

export interface OurStep {
  rate: number;
  seconds: number;
  placed: number;
  /** calls that ended ringing_canceled with a 487 */
  expected: number;
  /** other outcomes, by reason and SIP code */
  unexpected: Record<string, number>;
  /** calls with no record when the step gave up waiting */
  unfinished: number;
  /** placed / the time it took to place them */
  offeredPerSecond: number;
  /** expected outcomes / first INVITE to last record */
  completedPerSecond: number;
  /** INVITE to the call's record (ring, CANCEL, 487, ACK), ms */
  latency: { p50: number; p99: number; max: number };
  /** CPU of this process (main thread and the UAC worker), % of one core, while placing */
  cpuPercent: number;
  /** datagrams the kernel dropped on our SIP socket during the step */
  drops: number;
}

const TICK_MS = 2;
/** Longer than any call can take: Timer B (32 s) after a lost response. */
const DRAIN_TIMEOUT_MS = 40_000;

export async function runOurStep(router: TrunkRouter, rate: number, seconds: number): Promise<OurStep> {
  const channel = createFlashcallSipChannel({ uac: router, ringTimeMs: 0, maxDialMs: 5000 });
  const total = Math.round(rate * seconds);
  const sentAt = new Float64Array(total);
  const latencies: number[] = [];
  const unexpected: Record<string, number> = {};
  let ended = 0;
  let expected = 0;
  let firstSent = 0;
  let lastEnded = 0;
  const drops0 = sampleUdp(process.pid).drops;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();

  let resolveDrained!: () => void;
  const drained = new Promise<void>((resolve) => {
    resolveDrained = resolve;
  });
  const onEnded = (i: number, outcome: AttemptOutcome) => {
    ended++;
    latencies.push(outcome.at - (sentAt[i] as number));
    lastEnded = Math.max(lastEnded, outcome.at);
    if (outcome.reason === "ringing_canceled" && outcome.sipCode === 487) expected++;
    else {
      const key = `${outcome.reason} ${outcome.sipCode ?? "-"}`;
      unexpected[key] = (unexpected[key] ?? 0) + 1;
    }
    if (ended === total) resolveDrained();
  };

  let placed = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
      for (; placed < due; placed++) {
        const i = placed;
        const now = Date.now();
        if (i === 0) firstSent = now;
        sentAt[i] = now;
        channel.send(
          {
            kind: "flashcall",
            attemptId: `att_${i}`,
            to: `+4474${String(1_000_000 + (i % 9_000_000)).padStart(8, "0")}`,
            cli: `+44207941${String(i % 10_000).padStart(4, "0")}`,
          },
          { ringing: () => {}, ended: (outcome) => onEnded(i, outcome) },
        );
      }
      if (placed >= total) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
  const placingSeconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuPercent = Math.round(((cpu.user + cpu.system) / 1e6 / placingSeconds) * 100);

  let timeout: NodeJS.Timeout | undefined;
  await Promise.race([
    drained,
    new Promise<void>((resolve) => {
      timeout = setTimeout(resolve, DRAIN_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timeout);
  const elapsed = (lastEnded - firstSent) / 1000;
  return {
    rate,
    seconds,
    placed,
    expected,
    unexpected,
    unfinished: total - ended,
    offeredPerSecond: Math.round(placed / placingSeconds),
    completedPerSecond: elapsed > 0 ? Math.round(expected / elapsed) : 0,
    latency: percentiles(latencies),
    cpuPercent,
    drops: sampleUdp(process.pid).drops - drops0,
  };
}

/** Clean: every call ended as expected and the handset completed every one of them. */
export function ourStepClean(step: OurStep, handsetCompleted: number, handsetFailed: number): boolean {
  return (
    step.expected === step.placed && step.unfinished === 0 && handsetCompleted === step.placed && handsetFailed === 0
  );
}

export function ourStepLine(
  step: OurStep,
  handsetCompleted: number,
  handsetFailed: number,
  cpuHandset: number,
): string {
  const odd = Object.entries(step.unexpected)
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ");
  return [
    `${`${step.rate}/s`.padEnd(9)} placed ${step.placed} (${step.offeredPerSecond}/s), ringing_canceled 487: ${step.expected}${odd ? `, other: ${odd}` : ""}${step.unfinished ? `, unfinished ${step.unfinished}` : ""}`,
    `handset completed ${handsetCompleted} (failed ${handsetFailed})`,
    `achieved ${step.completedPerSecond} calls/s`,
    `INVITE→record p50 ${step.latency.p50} p99 ${step.latency.p99} ms`,
    `CPU ours ${step.cpuPercent}% handset ${cpuHandset}%`,
    `drops ${step.drops}`,
    ourStepClean(step, handsetCompleted, handsetFailed) ? "clean" : "NOT clean",
  ].join(" | ");
}
