/**
 * The SIPp-to-SIPp ceiling: what this machine manages when neither end is ours. SIPp as the handset (rings, answers
 * the CANCEL with 200 and the INVITE with 487) and SIPp as the caller (INVITE, 100/180, CANCEL, 200, 487, ACK), each
 * on its own loopback address with 4 MiB socket buffers, one step per rate. It uses the interop suite's scenarios
 * (test/sipp), so the ceiling is measured on the very call flow those tests prove. Figures come from SIPp's own
 * statistics file (-trace_stat): its final line holds the cumulative counters and start/end times to the microsecond.
 * A rate is clean when at most 0.1% of its calls did not complete at either end; the highest clean one is the ceiling.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freeUdpPort, lastStatistics, portTaken } from "../test/sipp/sipp-tools.js";
import type { Children } from "./children.js";
import { cpuPercent, sampleCpu } from "./proc-stats.js";

const SCENARIOS = resolve("test/sipp");
const HANDSET_ADDRESS = "127.0.0.4";
const CALLER_ADDRESS = "127.0.0.5";
const BUFFER_BYTES = 4 * 1024 * 1024;
/** Share of a step's calls that may fail for the rate still to count as clean. */
export const SIPP_MAX_FAILED_RATIO = 0.001;
/** After the caller exits, the handset gets this long to see its last ACKs before it is stopped. */
const HANDSET_LINGER_MS = 1000;

export interface SippStep {
  rate: number;
  seconds: number;
  /** the exact caller command line (run in a temp dir holding its statistics file) */
  command: string;
  /** calls the caller was told to place (-m) */
  requested: number;
  /** calls the caller created */
  attempted: number;
  successful: number;
  failed: number;
  /** calls the handset completed (received the ACK for its 487) */
  handsetSuccessful: number;
  handsetFailed: number;
  /** successful calls / the caller's run time (first call created to last call ended) */
  callsPerSecond: number;
  callerCpuPercent: number;
  handsetCpuPercent: number;
  callerExitCode: number | null;
  clean: boolean;
}

export interface SippCeiling {
  /** why there are no steps, e.g. SIPp is not installed */
  skipped: string | null;
  version: string | null;
  /** the exact handset command line, the same for every step */
  handsetCommand: string | null;
  steps: SippStep[];
}

/** Runs one step per rate; each finished step is added to `into` at once, so an interrupted run still shows it. */
export async function measureSippCeiling(
  rates: readonly number[],
  seconds: number,
  children: Children,
  into: SippCeiling,
): Promise<void> {
  const probe = spawnSync("sipp", ["-v"], { encoding: "utf8" });
  if (probe.error) {
    into.skipped = "SIPp not found: ceiling skipped";
    console.log(`\n${into.skipped}`);
    return;
  }
  into.version = /SIPp v(\S+)/.exec(probe.stdout)?.[1]?.replace(/-.*/, "") ?? "unknown";
  const handsetPort = await freeUdpPort(HANDSET_ADDRESS);
  const callerPort = await freeUdpPort(CALLER_ADDRESS);
  const common = ["-bind_local", "-buff_size", String(BUFFER_BYTES), "-nostdin", "-trace_stat"];
  // Safety net only: the handset is stopped once its caller is done.
  const handsetArgs = [
    ...["-sf", join(SCENARIOS, "uas-ring-cancel.xml"), "-i", HANDSET_ADDRESS, "-p", String(handsetPort)],
    ...["-timeout", `${Math.ceil(seconds) + 30}s`, ...common, "-stf", "handset.csv"],
  ];
  into.handsetCommand = `sipp ${handsetArgs.join(" ")}`;
  console.log(`\nSIPp-to-SIPp ceiling (SIPp ${into.version}), ${seconds} s per rate`);
  console.log(`  handset: ${into.handsetCommand}`);

  for (const rate of rates) {
    const requested = Math.round(rate * seconds);
    const callerArgs = [
      ...[`${HANDSET_ADDRESS}:${handsetPort}`, "-sf", join(SCENARIOS, "uac-ring-cancel.xml")],
      ...["-i", CALLER_ADDRESS, "-p", String(callerPort), "-r", String(rate), "-rp", "1000", "-m", String(requested)],
      ...["-timeout", `${Math.ceil(seconds) + 10}s`, "-timeout_error", ...common, "-stf", "caller.csv"],
    ];
    const command = `sipp ${callerArgs.join(" ")}`;
    console.log(`  caller:  ${command}`);
    const dir = mkdtempSync(join(tmpdir(), "flashverify-bench-sipp-"));
    let handset: Sipp | undefined;
    try {
      handset = startSipp(handsetArgs, dir, children, "SIPp handset");
      await waitUntilBound(HANDSET_ADDRESS, handsetPort, handset);
      const h0 = sampleCpu(handset.pid);
      const caller = startSipp(callerArgs, dir, children, "SIPp caller");
      const c0 = sampleCpu(caller.pid);
      // An exited process's CPU time is gone from /proc: the caller's is sampled while it runs.
      const callerCpu = watchCpu(caller.pid, c0);
      const callerExitCode = await caller.exit;
      const h1 = sampleCpu(handset.pid);
      await sleep(HANDSET_LINGER_MS);
      handset.child.kill("SIGTERM");
      await handset.exit;
      const callerStats = readFinalStats(join(dir, "caller.csv"));
      const handsetStats = readFinalStats(join(dir, "handset.csv"));
      if (!callerStats) throw new Error(`SIPp caller left no statistics (exit ${callerExitCode}): ${caller.tail()}`);
      const handsetSuccessful = handsetStats?.successful ?? 0;
      const completed = Math.min(callerStats.successful, handsetSuccessful);
      const step: SippStep = {
        rate,
        seconds,
        command,
        requested,
        attempted: callerStats.created,
        successful: callerStats.successful,
        failed: callerStats.failed,
        handsetSuccessful,
        handsetFailed: handsetStats?.failed ?? 0,
        callsPerSecond:
          callerStats.elapsedSeconds > 0 ? Math.round(callerStats.successful / callerStats.elapsedSeconds) : 0,
        callerCpuPercent: callerCpu.percent(),
        handsetCpuPercent: cpuPercent(h0, h1),
        callerExitCode,
        clean: requested - completed <= requested * SIPP_MAX_FAILED_RATIO,
      };
      into.steps.push(step);
      console.log(`  ${sippStepLine(step)}`);
    } finally {
      if (handset?.child.exitCode === null && handset.child.signalCode === null) handset.child.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** The highest rate with at most 0.1% failed calls. */
export function sippCeilingStep(result: SippCeiling | null): SippStep | undefined {
  return result?.steps.filter((s) => s.clean).sort((a, b) => b.rate - a.rate)[0];
}

export function sippStepLine(s: SippStep): string {
  return [
    `${`${s.rate}/s`.padEnd(9)} attempted ${s.attempted}/${s.requested}, successful ${s.successful}, failed ${s.failed}`,
    `handset completed ${s.handsetSuccessful} (failed ${s.handsetFailed})`,
    `achieved ${s.callsPerSecond} calls/s`,
    `CPU caller ${s.callerCpuPercent}% handset ${s.handsetCpuPercent}%`,
    s.clean ? "clean" : `NOT clean (> ${SIPP_MAX_FAILED_RATIO * 100}% failed)`,
  ].join(" | ");
}

/** The verdict lines: the ceiling, and this run's sustained verifications/s as a share of it. */
export function describeSippCeiling(result: SippCeiling | null, sustainedPerSecond: number | null): string[] {
  if (!result) return ["SIPp ceiling: not measured (--no-sipp)"];
  if (result.skipped) return [result.skipped];
  const ceiling = sippCeilingStep(result);
  if (!ceiling) return [`SIPp ceiling: no rate ran with <= ${SIPP_MAX_FAILED_RATIO * 100}% failed calls`];
  const lines = [
    `SIPp-to-SIPp ceiling (highest rate with <= ${SIPP_MAX_FAILED_RATIO * 100}% failed calls): ${ceiling.rate}/s offered, ${ceiling.callsPerSecond} calls/s achieved${ceiling.rate === Math.max(...result.steps.map((s) => s.rate)) ? " (the highest rate tried: the real ceiling may be higher)" : ""}`,
  ];
  lines.push(
    sustainedPerSecond === null
      ? "ratio: none (no rate of this run was sustained)"
      : `ratio: ${Math.round(sustainedPerSecond)} verifications/s sustained / ${ceiling.callsPerSecond} SIPp calls/s = ${(sustainedPerSecond / ceiling.callsPerSecond).toFixed(3)} (a verification is one flash call plus two HTTP requests and their database writes; a SIPp call is the flash call alone)`,
  );
  return lines;
}

export interface Sipp {
  child: ReturnType<typeof spawn>;
  pid: number;
  exit: Promise<number | null>;
  /** the end of its output, for error messages */
  tail: () => string;
}

export function startSipp(args: string[], cwd: string, children: Children, name: string): Sipp {
  const child = spawn("sipp", args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child, name);
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exit = new Promise<number | null>((resolve) => {
    child.once("error", () => resolve(null));
    child.once("exit", (code) => resolve(code));
  });
  if (child.pid === undefined) throw new Error(`${name} did not start`);
  return { child, pid: child.pid, exit, tail: () => output.slice(-1000) };
}

/** Samples a process's CPU every 100 ms while it runs, so the last sample before its exit gives its CPU use. */
export function watchCpu(pid: number, from: ReturnType<typeof sampleCpu>): { percent: () => number } {
  let last = from;
  const timer = setInterval(() => {
    try {
      last = sampleCpu(pid);
    } catch {
      clearInterval(timer);
    }
  }, 100);
  return {
    percent: () => {
      clearInterval(timer);
      return cpuPercent(from, last);
    },
  };
}

export interface FinalStats {
  created: number;
  successful: number;
  failed: number;
  elapsedSeconds: number;
}

/** The last line of a SIPp statistics file: cumulative counters, and StartTime/CurrentTime ending in epoch seconds. */
export function readFinalStats(file: string): FinalStats | null {
  let csv: string;
  try {
    csv = readFileSync(file, "utf8");
  } catch {
    return null;
  }
  const field = lastStatistics(csv);
  if (!field) return null;
  const epoch = (name: string) => Number(field(name).split("\t").at(-1));
  return {
    created: Number(field("TotalCallCreated")),
    successful: Number(field("SuccessfulCall(C)")),
    failed: Number(field("FailedCall(C)")),
    elapsedSeconds: epoch("CurrentTime") - epoch("StartTime"),
  };
}

/** Waits until the handset listens (an INVITE sent earlier would be lost), or fails if it exited. */
export async function waitUntilBound(address: string, port: number, sipp: Sipp): Promise<void> {
  let exited = false;
  void sipp.exit.then(() => {
    exited = true;
  });
  const deadline = Date.now() + 5000;
  while (!(await portTaken(address, port))) {
    if (exited || Date.now() > deadline) throw new Error(`SIPp handset did not start: ${sipp.tail()}`);
    await sleep(20);
  }
}
