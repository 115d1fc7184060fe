/**
 * `npm run bench:voice`: concurrent voice OTP calls with their RTP streams, from one process (the voice channel's
 * prompt, the trunk layer and the trunk's UAC worker, whose media clock sends every packet) against SIPp answering
 * each call and echoing its RTP (`-rtp_echo`).
 *
 * Each step places N calls at --rate per second; every call plays the whole prompt (the code twice, the menu, a
 * short wait for a key), so once the last call is answered all N stream at once until the first one ends. Over
 * that window it reads this process's CPU (all its threads) and divides it by N. Every packet's send time is compared
 * with its schedule (its stream's first packet plus 20 ms per packet): the lateness distribution of all packets of
 * all calls is the send-time jitter, and the worst one says whether any packet left 20 ms late or more. Beside it,
 * over the same window: SIPp's CPU, the whole machine's, and how late a bare 1 ms timer on the main thread (which
 * does nothing then) wakes: the lateness the machine itself adds to any thread, whatever that thread does.
 *
 * Flags: --concurrent 100,300,500 --rate 50 --priority <nice> (default: the media threads at -10 where permitted)
 * --no-echo (SIPp only receives: what the echo costs)
 * --media-threads <n> (VOICE_RTP_THREADS: the threads that send the RTP; 0: the SIP thread, which reads it, sends it too).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { buildPrompt } from "../src/channels/voice/prompt.js";
import { SpeechClips } from "../src/channels/voice/speech.js";
import {
  latenessQuantile,
  mergeSendTiming,
  newSendTiming,
  recordLateness,
  type SendTiming,
} from "../src/media/media-clock.js";
import { promptSeconds } from "../src/media/prompt.js";
import { startTrunkRouter, TrunkSchema } from "../src/sip/trunks/index.js";
import type { CallRecord } from "../src/sip/types.js";
import { freeUdpPort } from "../test/sipp/sipp-tools.js";
import { Children } from "./children.js";
import { type CpuSample, cpuPercent, raisedThreads, sampleCpu, sampleMachineCpu } from "./proc-stats.js";
import { machineInfo } from "./run-info.js";
import { startSipp, waitUntilBound } from "./sipp-ceiling.js";

const PHONE_ADDRESS = "127.0.0.147";
const OUR_ADDRESS = "127.0.0.146";
const RTP_PORTS = { min: 30000, max: 39999 };
const children = new Children();

interface Options {
  concurrent: number[];
  rate: number;
  /** VOICE_RTP_PRIORITY: the nice value of the threads that send the RTP */
  priority?: number;
  /** SIPp echoes the RTP (default); without, it only receives it: what reading the echo costs */
  echo: boolean;
  /** VOICE_RTP_THREADS: threads that send the RTP (0: the SIP thread sends it too); default 1 */
  mediaThreads?: number;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { concurrent: [100, 300, 500], rate: 50, echo: true };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === "--concurrent")
      options.concurrent = (argv[++i] ?? "")
        .split(",")
        .map(Number)
        .filter((n) => n > 0);
    else if (flag === "--rate") options.rate = Number(argv[++i]);
    else if (flag === "--priority") options.priority = Number(argv[++i]);
    else if (flag === "--no-echo") options.echo = false;
    else if (flag === "--media-threads") options.mediaThreads = Number(argv[++i]);
    else
      throw new Error(
        `unknown flag ${flag}; flags: --concurrent a,b --rate n --priority nice --no-echo --media-threads n`,
      );
  }
  if (options.concurrent.length === 0 || !(options.rate > 0))
    throw new Error("--concurrent and --rate must be positive");
  return options;
}

interface StepResult {
  calls: number;
  delivered: number;
  answered: number;
  windowSeconds: number;
  cpuPercent: number;
  timing: SendTiming;
  echoed: number;
  /** SIPp's CPU and the whole machine's (all processes, 200% = both cores) over the same window. */
  sippCpuPercent: number;
  machineCpuPercent: number;
  /** A bare 1 ms timer on the main thread over the window: how late this machine runs a thread that does nothing. */
  probe: SendTiming;
  /** The threads' nice values while the calls streamed (VOICE_RTP_PRIORITY: media threads at -10 where permitted). */
  priorities: string;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const args = process.argv.slice(2).join(" ");
  console.log(`command: npm run bench:voice${args ? ` -- ${args}` : ""}`);
  for (const [k, v] of Object.entries(machineInfo())) console.log(`${k}: ${v}`);

  const speech = new SpeechClips({ promptsDir: null });
  const prompt = await buildPrompt(speech, "en", "482916", { listenMs: 1000, maxReplays: 0 });
  const seconds = promptSeconds(prompt) + 1;
  console.log(
    `prompt: "482916" in English, ${seconds.toFixed(1)} s of RTP per call (${Math.round(seconds * 50)} packets)`,
  );

  const phonePort = await freeUdpPort(PHONE_ADDRESS);
  const mediaPort = await freeUdpPort(PHONE_ADDRESS);
  const phoneArgs = [
    ...["-sf", resolve("test/sipp/uas-voice-echo.xml"), "-i", PHONE_ADDRESS, "-p", String(phonePort)],
    ...["-mi", PHONE_ADDRESS, "-mp", String(mediaPort), ...(options.echo ? ["-rtp_echo"] : [])],
    ...["-bind_local", "-buff_size", "4194304", "-nostdin", "-timeout", "600s"],
  ];
  console.log(`phones: sipp ${phoneArgs.join(" ")}`);
  const threads = options.mediaThreads ?? 1;
  console.log(
    `media threads: ${threads}${threads === 0 ? " (the RTP is sent and read on the SIP thread)" : " send the RTP, the SIP thread reads it"}`,
  );
  const router = await startTrunkRouter({
    trunks: [TrunkSchema.parse({ id: "bench", host: PHONE_ADDRESS, port: phonePort, breaker_failures: 1e9 })],
    localAddress: OUR_ADDRESS,
    t1Ms: 500,
    media: {
      ports: RTP_PORTS,
      ...(options.priority === undefined ? {} : { priority: options.priority }),
      ...(options.mediaThreads === undefined ? {} : { threads: options.mediaThreads }),
    },
    onError: (error) => console.error("trunk error:", error),
  });

  try {
    for (const n of options.concurrent) {
      const dir = mkdtempSync(join(tmpdir(), "flashverify-bench-voice-"));
      const phones = startSipp(phoneArgs, dir, children, "SIPp phones");
      try {
        await waitUntilBound(PHONE_ADDRESS, phonePort, phones);
        const step = await runStep(router, prompt, n, options.rate, phones.child.pid as number);
        console.log(stepLine(step));
      } finally {
        phones.child.kill("SIGTERM");
        await phones.exit;
        rmSync(dir, { recursive: true, force: true });
      }
      await sleep(1000);
    }
  } finally {
    await router.close();
  }
}

async function runStep(
  router: Awaited<ReturnType<typeof startTrunkRouter>>,
  prompt: Awaited<ReturnType<typeof buildPrompt>>,
  n: number,
  rate: number,
  sippPid: number,
): Promise<StepResult> {
  const records: Promise<CallRecord>[] = [];
  let answered = 0;
  let firstEnded = false;
  const opened: { window: Window | null } = { window: null };
  let priorities = "";
  const closeWindow = (w: Window) => {
    w.to = { ours: sampleCpu(process.pid), sipp: sampleCpu(sippPid), machine: sampleMachineCpu() };
    priorities = raisedThreads(process.pid);
  };
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const call = router.placeCall({
      to: `+4474001${String(i).padStart(5, "0")}`,
      cli: "+442079460000",
      ringTimeMs: 30_000,
      maxDialMs: 20_000,
      media: { prompt, maxCallMs: 120_000 },
    });
    records.push(
      call.done.then((record) => {
        if (!firstEnded) {
          firstEnded = true;
          if (opened.window) closeWindow(opened.window);
        }
        return record;
      }),
    );
  }
  // All calls are placed; a second later the last has been answered (SIPp answers at once) and none has ended
  // yet: every call streams until the first one ends.
  await sleep(1000);
  const window: Window | null = firstEnded
    ? null
    : { from: { ours: sampleCpu(process.pid), sipp: sampleCpu(sippPid), machine: sampleMachineCpu() }, to: null };
  opened.window = window;
  const probe = newSendTiming();
  let due = performance.now() + 1;
  const tick = () => {
    const now = performance.now();
    recordLateness(probe, now - due);
    due = now + 1;
    if (window && !window.to) setTimeout(tick, 1);
  };
  if (window) setTimeout(tick, 1);
  const done = await Promise.all(records);
  const timing = newSendTiming();
  let echoed = 0;
  for (const r of done) {
    if (r.answeredAt) answered++;
    if (r.media?.timing) mergeSendTiming(timing, r.media.timing);
    echoed += r.media?.packetsReceived ?? 0;
  }
  const w = window;
  const cpu = w?.to ? cpuPercent(w.from.ours, w.to.ours) : Number.NaN;
  return {
    calls: n,
    delivered: done.filter((r) => r.media?.codeHeard).length,
    answered,
    windowSeconds: w?.to ? w.to.ours.at - w.from.ours.at : 0,
    cpuPercent: cpu,
    timing,
    echoed,
    sippCpuPercent: w?.to ? cpuPercent(w.from.sipp, w.to.sipp) : Number.NaN,
    machineCpuPercent: w?.to ? cpuPercent(w.from.machine, w.to.machine) : Number.NaN,
    probe,
    priorities,
  };
}

interface Window {
  from: { ours: CpuSample; sipp: CpuSample; machine: CpuSample };
  to: { ours: CpuSample; sipp: CpuSample; machine: CpuSample } | null;
}

/** The issue's bar for a step: send-time jitter p99 under 5 ms and no packet 20 ms late, with every call streaming. */
const JITTER_P99_TARGET_MS = 5;
const LATE_TARGET_MS = 20;

function stepLine(s: StepResult): string {
  const perCall = s.cpuPercent / s.calls;
  const p99 = latenessQuantile(s.timing, 0.99);
  const met = p99 < JITTER_P99_TARGET_MS && s.timing.maxLateMs < LATE_TARGET_MS && Number.isFinite(s.cpuPercent);
  return [
    `${s.calls} concurrent calls:`,
    `answered ${s.answered}, code said in full ${s.delivered};`,
    `${s.timing.packets} RTP packets sent, ${s.echoed} echoed back;`,
    `send lateness p50 ${latenessQuantile(s.timing, 0.5).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${s.timing.maxLateMs.toFixed(2)} ms;`,
    Number.isFinite(s.cpuPercent)
      ? `CPU ${s.cpuPercent.toFixed(1)}% of a core over the ${s.windowSeconds.toFixed(1)} s all ${s.calls} streamed = ${perCall.toFixed(3)}% per concurrent call`
      : "CPU: no window where every call streamed at once (calls ended before the last was answered)",
    `SIPp ${s.sippCpuPercent.toFixed(1)}% of a core, the machine ${s.machineCpuPercent.toFixed(1)}% of 200%;`,
    `threads: ${s.priorities};`,
    `a bare 1 ms timer on the main thread meanwhile: late p50 ${latenessQuantile(s.probe, 0.5).toFixed(2)} ms, p99 ${latenessQuantile(s.probe, 0.99).toFixed(2)} ms, max ${s.probe.maxLateMs.toFixed(2)} ms`,
    `=> ${met ? "meets" : "misses"} the target (p99 < ${JITTER_P99_TARGET_MS} ms, max < ${LATE_TARGET_MS} ms, all streaming at once)`,
  ].join(" ");
}

children.installExitHandlers(async () => 130);
main().then(
  async () => {
    await children.stopAll();
    process.exit(0);
  },
  async (error: unknown) => {
    console.error(error);
    await children.stopAll();
    process.exit(1);
  },
);
