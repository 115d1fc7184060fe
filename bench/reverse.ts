/**
 * `npm run bench:reverse`: how many reverse flash calls per second the server answers, against what SIPp answers on
 * the same machine.
 *
 * Ours: the server as an operator runs it (its own process, SQLite), with an inbound pool of 10,000 shared numbers
 * and its listener on 127.0.18.1. Per rate, `rate * seconds` verifications are started over HTTP first (a reverse
 * flash call each, to its own phone), then SIPp, as the trunk on 127.0.18.2, places one call per verification from
 * its phone to its number (caller and number from an injection file): INVITE, 603, ACK. A step is clean when at most
 * 0.1% of its calls failed at SIPp, at least 99.9% verified their verification (the server's own counter,
 * `flashverify_inbound_calls_total{outcome="verified"}`), and the calls went at the rate offered (achieved >= 95% of
 * it: a server that falls behind still completes every call, only later). Then the SIPp-to-SIPp ceiling: the same
 * caller against a SIPp that declines every INVITE at once (test/sipp/uas-decline-at-once.xml), one step per rate;
 * its figure is the most SIPp achieved in a step with at most 0.1% failed calls. Both sides are compared by what they
 * achieved in their best clean step, not by the rate offered: on a loaded machine SIPp completes a higher offered
 * rate at a lower achieved one (the caller falls behind), and that step would have set the ceiling.
 *
 * Printed: each step, the best clean step of each side, their ratio, and CPU per call of the server and of SIPp.
 * Flags: --rates 500,1000,2000 --seconds 5 --sipp-rates 5000,10000,20000 --sipp-seconds 5 (0: no ceiling), and
 * --cpu-prof DIR to profile the server (its .cpuprofile is written there when it stops; `node
 * dist/bench/profile-summary.js DIR` reads it).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freeUdpPort } from "../test/sipp/sipp-tools.js";
import { flagValue } from "./args.js";
import { Children } from "./children.js";
import { cpuPercent, sampleCpu, sampleThreads, threadMsPer } from "./proc-stats.js";
import { machineInfo } from "./run-info.js";
import { startServer } from "./server-process.js";
import { readFinalStats, startSipp, waitUntilBound, watchCpu } from "./sipp-ceiling.js";

const LISTENER = "127.0.18.1";
const TRUNK = "127.0.18.2";
const CEILING_UAS = "127.0.18.3";
const API_KEY = "fv_bench_reverse_key_0123456789";
const MAX_FAILED = 0.001;
/** achieved / offered for our step to count as keeping up */
const SUSTAINED = 0.95;
const SCENARIO = resolve("test/sipp/uac-reverse-expect-603.xml");
const BUFFER = ["-buff_size", "4194304"];

interface Step {
  rate: number;
  calls: number;
  successful: number;
  failed: number;
  verified: number;
  callsPerSecond: number;
  /** CPU seconds per call, in ms */
  serverCpuMsPerCall: number;
  /** ours only: the server's main thread, and its other threads busiest first (the SIP and SQLite writer threads, GC) */
  threads?: { main: number; others: number[] };
  sippCpuMsPerCall: number;
  serverCpuPercent: number;
  sippCpuPercent: number;
  clean: boolean;
  command: string;
}

const children = new Children();
const list = (s: string) =>
  s
    .split(",")
    .map(Number)
    .filter((n) => n > 0);

async function main(): Promise<void> {
  const rates = list(flagValue("rates", "500,1000,2000"));
  const seconds = Number(flagValue("seconds", "5"));
  const sippRates = list(flagValue("sipp-rates", "5000,10000,20000"));
  const sippSeconds = Number(flagValue("sipp-seconds", "5"));
  const dir = mkdtempSync(join(tmpdir(), "flashverify-bench-reverse-"));
  for (const [k, v] of Object.entries(machineInfo())) console.log(`${k}: ${v}`);
  try {
    const ours = await measureOurs(rates, seconds, dir);
    const ceiling = await measureCeiling(sippRates, sippSeconds, dir);
    report(ours, ceiling);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The SIPp caller's scenario with its numbers taken from the injection file. */
function scenario(dir: string): string {
  const text = readFileSync(SCENARIO, "utf8")
    .replaceAll("[caller]", "[field0]")
    .replaceAll("[dialled]", "[field1]")
    .replaceAll("[identity]", "X-Bench: reverse");
  const file = join(dir, "uac-reverse.xml");
  writeFileSync(file, text);
  return file;
}

async function measureOurs(rates: number[], seconds: number, dir: string): Promise<Step[]> {
  const profileDir = flagValue("cpu-prof", "");
  const port = await freeUdpPort(LISTENER);
  const server = await startServer({
    tempDir: dir,
    store: { kind: "sqlite" },
    apiKey: API_KEY,
    // The flash-call trunk is never called here.
    trunk: { host: "127.0.18.9", port: 5060 },
    nodeArgs: profileDir ? ["--cpu-prof", `--cpu-prof-dir=${resolve(profileDir)}`] : [],
    logFile: join(dir, "server.log"),
    env: {
      INBOUND_NUMBERS: "+44207946xxxx",
      INBOUND_MODE: "shared",
      INBOUND_SIP_ADDRESS: LISTENER,
      INBOUND_SIP_PORT: String(port),
      INBOUND_TRUSTED_SOURCES: TRUNK,
      // Counted like any call, out of the bench's reach: each caller calls once, each number about rate/10,000 times.
      INBOUND_LIMITS: "caller=10/10m,number=1000000/1m",
    },
  });
  children.add(server.child, "server");
  console.log(`\nours: ${server.commandLine}`);
  const steps: Step[] = [];
  let phoneBase = 447_401_000_000;
  const sf = scenario(dir);
  for (const rate of rates) {
    const calls = Math.round(rate * seconds);
    const pairs = await startVerifications(server.baseUrl, calls, phoneBase);
    phoneBase += calls;
    const inf = join(dir, `calls-${rate}.csv`);
    writeFileSync(inf, `SEQUENTIAL\n${pairs.map(([phone, dial]) => `${phone};${dial};`).join("\n")}\n`);
    const verifiedBefore = await verifiedCount(server.baseUrl);
    const callerPort = await freeUdpPort(TRUNK);
    const args = [
      ...[`${LISTENER}:${port}`, "-sf", sf, "-inf", inf, "-i", TRUNK, "-p", String(callerPort), "-bind_local"],
      ...["-r", String(rate), "-rp", "1000", "-m", String(calls), "-timeout", `${seconds + 20}s`, ...BUFFER],
      ...["-nostdin", "-trace_stat", "-stf", "caller.csv"],
    ];
    const s0 = sampleCpu(server.pid);
    const t0 = sampleThreads(server.pid);
    const sipp = startSipp(args, dir, children, "SIPp caller");
    const sippCpu = watchCpu(sipp.pid, sampleCpu(sipp.pid));
    const sippSample0 = sampleCpu(sipp.pid);
    await sipp.exit;
    const s1 = sampleCpu(server.pid);
    const t1 = sampleThreads(server.pid);
    const stats = readFinalStats(join(dir, "caller.csv"));
    if (!stats) throw new Error(`SIPp left no statistics: ${sipp.tail()}`);
    const verified = (await verifiedCount(server.baseUrl)) - verifiedBefore;
    const sippPercent = sippCpu.percent();
    const elapsed = Math.max(stats.elapsedSeconds, 1e-3);
    const step: Step = {
      rate,
      calls,
      successful: stats.successful,
      failed: stats.failed,
      verified,
      callsPerSecond: Math.round(stats.successful / elapsed),
      serverCpuMsPerCall: round(((s1.cpuSeconds - s0.cpuSeconds) * 1000) / Math.max(stats.successful, 1)),
      threads: threadMsPer(t0, t1, server.pid, stats.successful),
      sippCpuMsPerCall: round(((sippPercent / 100) * (s1.at - sippSample0.at) * 1000) / Math.max(stats.successful, 1)),
      serverCpuPercent: cpuPercent(s0, s1),
      sippCpuPercent: sippPercent,
      clean:
        calls - stats.successful <= calls * MAX_FAILED &&
        verified >= calls * (1 - MAX_FAILED) &&
        stats.successful / elapsed >= rate * SUSTAINED,
      command: `sipp ${args.join(" ")}`,
    };
    steps.push(step);
    console.log(`  ${stepLine(step)}`);
  }
  await children.stopAll();
  return steps;
}

async function measureCeiling(rates: number[], seconds: number, dir: string): Promise<Step[]> {
  const handsetPort = await freeUdpPort(CEILING_UAS);
  const sf = scenario(dir);
  const uasArgs = [
    ...["-sf", resolve("test/sipp/uas-decline-at-once.xml"), "-i", CEILING_UAS, "-p", String(handsetPort)],
    ...["-bind_local", ...BUFFER, "-nostdin", "-timeout", "600s"],
  ];
  console.log(`\nSIPp-to-SIPp ceiling: sipp ${uasArgs.join(" ")}`);
  const steps: Step[] = [];
  for (const rate of rates) {
    const calls = Math.round(rate * seconds);
    const inf = join(dir, `ceiling-${rate}.csv`);
    const rows = Array.from({ length: calls }, (_, i) => `+${447_402_000_000 + i};+442079460000;`);
    writeFileSync(inf, `SEQUENTIAL\n${rows.join("\n")}\n`);
    const uas = startSipp(uasArgs, dir, children, "SIPp decliner");
    await waitUntilBound(CEILING_UAS, handsetPort, uas);
    const callerPort = await freeUdpPort(TRUNK);
    const args = [
      ...[`${CEILING_UAS}:${handsetPort}`, "-sf", sf, "-inf", inf, "-i", TRUNK, "-p", String(callerPort)],
      ...["-bind_local", "-r", String(rate), "-rp", "1000", "-m", String(calls), "-timeout", `${seconds + 20}s`],
      ...[...BUFFER, "-nostdin", "-trace_stat", "-stf", "ceiling.csv"],
    ];
    const u0 = sampleCpu(uas.pid);
    const sipp = startSipp(args, dir, children, "SIPp caller");
    const c0 = sampleCpu(sipp.pid);
    const callerCpu = watchCpu(sipp.pid, c0);
    await sipp.exit;
    const u1 = sampleCpu(uas.pid);
    uas.child.kill("SIGTERM");
    await uas.exit;
    const stats = readFinalStats(join(dir, "ceiling.csv"));
    if (!stats) throw new Error(`SIPp left no statistics: ${sipp.tail()}`);
    const callerPercent = callerCpu.percent();
    const ok = Math.max(stats.successful, 1);
    const step: Step = {
      rate,
      calls,
      successful: stats.successful,
      failed: stats.failed,
      verified: 0,
      callsPerSecond: Math.round(stats.successful / Math.max(stats.elapsedSeconds, 1e-3)),
      serverCpuMsPerCall: round(((u1.cpuSeconds - u0.cpuSeconds) * 1000) / ok),
      sippCpuMsPerCall: round(((callerPercent / 100) * (u1.at - c0.at) * 1000) / ok),
      serverCpuPercent: cpuPercent(u0, u1),
      sippCpuPercent: callerPercent,
      clean: calls - stats.successful <= calls * MAX_FAILED,
      command: `sipp ${args.join(" ")}`,
    };
    steps.push(step);
    console.log(`  ${stepLine(step, "SIPp decliner")}`);
  }
  return steps;
}

/** Starts `count` reverse flash calls, 64 requests at a time; resolves with each one's phone and number to call. */
async function startVerifications(baseUrl: string, count: number, first: number): Promise<[string, string][]> {
  const pairs: [string, string][] = [];
  let next = 0;
  const headers = { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" };
  const worker = async () => {
    while (next < count) {
      const phone = `+${first + next++}`;
      const body = JSON.stringify({ phone, workflow: [{ channel: "reverse_flashcall", timeout: 600 }] });
      let response = await fetch(`${baseUrl}/v1/verifications`, { method: "POST", headers, body });
      // The server sheds starts past its capacity (503 with Retry-After): the bench's starts are not the measure.
      for (let retry = 0; response.status === 503 && retry < 50; retry++) {
        await response.arrayBuffer();
        await new Promise((r) => setTimeout(r, 100));
        response = await fetch(`${baseUrl}/v1/verifications`, { method: "POST", headers, body });
      }
      const started = (await response.json()) as { reverse_flashcall?: { dial: string } };
      if (response.status !== 201 || !started.reverse_flashcall) {
        throw new Error(`start ${phone}: ${response.status} ${JSON.stringify(started)}`);
      }
      pairs.push([phone, started.reverse_flashcall.dial]);
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  return pairs;
}

async function verifiedCount(baseUrl: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith('flashverify_inbound_calls_total{outcome="verified"}'));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

function stepLine(s: Step, server = "server"): string {
  return [
    `${`${s.rate}/s`.padEnd(8)} calls ${s.calls}, successful ${s.successful}, failed ${s.failed}`,
    ...(server === "server" ? [`verified ${s.verified}`] : []),
    `achieved ${s.callsPerSecond} calls/s`,
    `CPU ${server} ${s.serverCpuPercent}% (${s.serverCpuMsPerCall} ms/call), SIPp caller ${s.sippCpuPercent}% (${s.sippCpuMsPerCall} ms/call)`,
    ...(s.threads ? [`threads ms/call: main ${s.threads.main}, others ${s.threads.others.join(" / ")}`] : []),
    s.clean ? "clean" : server === "server" ? "NOT clean (failed, unverified, or behind the rate)" : "NOT clean",
  ].join(" | ");
}

function report(ours: Step[], ceiling: Step[]): void {
  const best = (steps: Step[]) => steps.filter((s) => s.clean).sort((a, b) => b.callsPerSecond - a.callsPerSecond)[0];
  const o = best(ours);
  const c = best(ceiling);
  console.log("\nreverse flash calls:");
  console.log(
    o ? `  ours: best clean step ${o.rate}/s offered (${o.callsPerSecond} calls/s achieved)` : "  ours: no clean rate",
  );
  console.log(
    c
      ? `  SIPp-to-SIPp: best clean step ${c.rate}/s offered (${c.callsPerSecond} calls/s achieved)`
      : "  SIPp: no clean rate",
  );
  if (o && c) {
    console.log(
      `  ratio: ${o.callsPerSecond} / ${c.callsPerSecond} = ${(o.callsPerSecond / c.callsPerSecond).toFixed(3)} (target >= 0.5)`,
    );
    console.log(
      `  CPU per inbound call at ${o.rate}/s: server ${o.serverCpuMsPerCall} ms, SIPp caller ${o.sippCpuMsPerCall} ms; SIPp decliner at ${c.rate}/s: ${c.serverCpuMsPerCall} ms`,
    );
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;

const stop = () => {
  void children.stopAll().then(() => process.exit(130));
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
main().then(
  () => children.stopAll().then(() => process.exit(0)),
  async (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    await children.stopAll();
    process.exit(1);
  },
);
