/**
 * `npm run bench`: the flash-call throughput benchmark. It starts the load process (virtual handsets + open-loop
 * generator), then the server in its own process with its SIP trunk pointed at those handsets, runs a warm-up and
 * one step per rate (for several rounds), and prints per step the completed verifications/s, latency percentiles,
 * CPU of both processes and the server's RSS; then a README-ready table of medians over rounds, the highest rate
 * with zero errors, and .bench/last.json. Then, with the server stopped, the same machine's SIPp-to-SIPp ceiling
 * (sipp-ceiling.ts) and this run's sustained verifications/s as a share of it. Every child ends with the harness,
 * whatever way it ends.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type BenchOptions, parseBenchArgs, USAGE, UsageError } from "./args.js";
import { describeCallOutcomes, readCallOutcomes } from "./call-outcomes.js";
import { Children } from "./children.js";
import { LoadProcess, type ProgressMessage } from "./load-process.js";
import { cpuPercent, sampleCpu, sampleMachineCpu, sampleMemory, sampleUdp } from "./proc-stats.js";
import { summarizeProfile } from "./profile-summary.js";
import { type StepRequest, totalErrors } from "./protocol.js";
import {
  bestCleanRow,
  bestSustainedRow,
  machineBound,
  markdownTable,
  type StepRecord,
  stepLine,
  tableRows,
} from "./report.js";
import { commandLine, machineInfo, summarizeServerLog } from "./run-info.js";
import { eventLoopDelayP99Ms } from "./server-metrics.js";
import { type ServerProcess, type ServerStore, startServer } from "./server-process.js";
import {
  createSharedStore,
  readCallOutcomesFromPostgres,
  removeSharedStore,
  type SharedStore,
} from "./shared-store.js";
import { describeSippCeiling, measureSippCeiling, type SippCeiling, sippCeilingStep } from "./sipp-ceiling.js";

const OUT_DIR = resolve(".bench");
const PAUSE_BETWEEN_STEPS_MS = 1000;
/** Between steps the server must be this quiet (CPU % of one core over IDLE_WINDOW_MS, twice in a row). */
const IDLE_CPU_PERCENT = 15;
const IDLE_WINDOW_MS = 250;
const IDLE_TIMEOUT_MS = 60_000;
const children = new Children();
/** Set by SIGINT/SIGTERM: the children then die on purpose and the signal handler decides the exit. */
let interrupted = false;

interface RunState {
  options: BenchOptions;
  command: string;
  header: Record<string, string>;
  /** one per node; one on SQLite */
  servers: ServerProcess[];
  /** PostgreSQL schema and Redis prefix of this run (--store postgres) */
  shared: SharedStore | null;
  warmup: StepRecord | null;
  records: StepRecord[];
  /** from SIGTERM to both children gone */
  shutdownSeconds: number | null;
  /** null with --no-sipp */
  sipp: SippCeiling | null;
}

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseBenchArgs(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof TypeError)) throw error;
    if (error.message) console.error(error.message);
    console.error(USAGE);
    return 2;
  }
  const profileDir = join(OUT_DIR, "profiles", new Date().toISOString().replace(/[:.]/g, "-"));
  if (options.cpuProf) options.serverNodeArgs.push("--cpu-prof", `--cpu-prof-dir=${profileDir}`);

  const state: RunState = {
    options,
    command: commandLine(),
    header: machineInfo(),
    servers: [],
    shared: null,
    warmup: null,
    records: [],
    shutdownSeconds: null,
    sipp: null,
  };
  const tempDir = mkdtempSync(join(tmpdir(), "flashverify-bench-"));
  process.once("exit", () => {
    if (!options.keepTemp) rmSync(tempDir, { recursive: true, force: true });
  });
  children.installExitHandlers(async (signal) => {
    interrupted = true;
    console.log(`\n${signal}: stopping; results so far:`);
    finish(state);
    if (state.shared) await removeSharedStore(state.shared);
    return 130;
  });

  console.log(`# flashverify bench\n# command: ${state.command}`);
  for (const [k, v] of Object.entries(state.header)) console.log(`# ${k}: ${v}`);

  const load = await LoadProcess.start(options.handsetsAddress);
  children.add(load.child, "load process");
  mkdirSync(OUT_DIR, { recursive: true });
  const apiKey = `bench_${randomBytes(16).toString("hex")}`;
  let store: ServerStore = { kind: "sqlite" };
  if (options.store === "postgres") {
    state.shared = await createSharedStore(options.postgresUrl, options.redisUrl);
    store = { kind: "postgres", ...state.shared };
    console.log(`# PostgreSQL schema ${state.shared.schema}, Redis prefix ${state.shared.redisPrefix} (removed after)`);
  }
  const start = async (node: number) => {
    const server = await startServer({
      tempDir,
      store,
      apiKey,
      trunk: { host: load.sip.address, port: load.sip.port },
      nodeArgs: options.serverNodeArgs,
      logFile: join(OUT_DIR, serverLogName(node)),
    });
    children.add(server.child, `server ${node + 1}`);
    return server;
  };
  // The first node runs the migrations; the others start once the schema exists.
  state.servers.push(await start(0));
  state.servers.push(...(await Promise.all(Array.from({ length: options.nodes - 1 }, (_, i) => start(i + 1)))));
  for (const server of state.servers) console.log(`# server: ${server.commandLine}`);
  console.log(`# handsets: sip:${load.sip.address}:${load.sip.port} (load process pid ${load.pid})`);
  console.log(
    "# latencies count from each request's scheduled send time (open loop); CPU 100% = one core; 'others' = the rest of the machine\n",
  );
  load.configure(
    state.servers.map((s) => s.baseUrl),
    apiKey,
    options.maxSockets,
  );

  const run = (request: StepRequest, round: number) => measureStep(state, load, request, round);
  if (options.warmupSeconds > 0) {
    const drainSeconds = options.drainSeconds;
    state.warmup = await run(
      { label: "warm-up", rate: options.warmupRate, seconds: options.warmupSeconds, drainSeconds },
      0,
    );
  }
  let stop = false;
  for (let round = 1; round <= options.repeat && !stop; round++) {
    for (const rate of options.rates) {
      await settle(state);
      const label = options.repeat > 1 ? `${rate}/s round ${round}` : `${rate}/s`;
      const record = await run({ label, rate, seconds: options.seconds, drainSeconds: options.drainSeconds }, round);
      state.records.push(record);
      if (record.aborted && options.stopOnFailure) {
        stop = true;
        break;
      }
    }
  }

  // The last step gets the same chance as the others to finish its leftover work before the server is stopped.
  if (state.records.length > 0) await settle(state);
  load.stop();
  const t0 = performance.now();
  await children.stopAll();
  state.shutdownSeconds = Math.round((performance.now() - t0) / 100) / 10;
  await attachCallOutcomes(state);
  if (state.shared) await removeSharedStore(state.shared);
  if (options.sippRates.length > 0) {
    state.sipp = { skipped: null, version: null, handsetCommand: null, steps: [] };
    await measureSippCeiling(options.sippRates, options.sippSeconds, children, state.sipp);
  }
  finish(state);
  if (options.cpuProf) printProfiles(profileDir);
  return 0;
}

/** Runs one step in the load process and adds the CPU and memory figures read from /proc around it. */
async function measureStep(
  state: RunState,
  load: LoadProcess,
  request: StepRequest,
  round: number,
): Promise<StepRecord> {
  state.servers.forEach((server, i) => {
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      const log = `.bench/${serverLogName(i)}`;
      throw new Error(`server ${i + 1} died (${server.child.exitCode ?? server.child.signalCode}); see ${log}`);
    }
  });
  const pids = state.servers.map((s) => s.pid);
  const s0 = pids.map(sampleCpu);
  const l0 = sampleCpu(load.pid);
  const m0 = sampleMachineCpu();
  const u0 = { servers: pids.map(sampleUdp), load: sampleUdp(load.pid) };
  // Restarts each server's event-loop delay histogram, so the read after the step covers the step alone.
  await Promise.all(state.servers.map((s) => eventLoopDelayP99Ms(s.baseUrl)));
  const from = Date.now();
  const result = await load.runStep(request, showProgress);
  const s1 = pids.map(sampleCpu);
  const l1 = sampleCpu(load.pid);
  const m1 = sampleMachineCpu();
  const to = Date.now();
  const memory = pids.map(sampleMemory);
  const u1 = { servers: pids.map(sampleUdp), load: sampleUdp(load.pid) };
  const serverLag = await Promise.all(state.servers.map((s) => eventLoopDelayP99Ms(s.baseUrl)));
  clearProgress();
  // With several nodes, CPU, memory and SIP drops are the deployment's: summed over its processes.
  const serverCpu = sum(s0.map((before, i) => cpuPercent(before, s1[i]!)));
  const record: StepRecord = {
    ...result,
    round,
    serverCpuPercent: Math.round(serverCpu * 10) / 10,
    loadCpuPercent: cpuPercent(l0, l1),
    otherCpuPercent: Math.max(0, Math.round((cpuPercent(m0, m1) - serverCpu - cpuPercent(l0, l1)) * 10) / 10),
    serverPeakRssMiB: Math.round(sum(memory.map((m) => m.peakRssMiB)) * 10) / 10,
    serverRssMiB: Math.round(sum(memory.map((m) => m.rssMiB)) * 10) / 10,
    totalErrors: totalErrors(result.errors),
    serverLoopDelayP99Ms: Math.round(Math.max(...serverLag) * 10) / 10,
    serverBusyAfterSeconds: 0,
    udp: {
      serverDrops: sum(u1.servers.map((u, i) => u.drops - u0.servers[i]!.drops)),
      handsetDrops: u1.load.drops - u0.load.drops,
      serverBacklogBytes: sum(u1.servers.map((u) => u.rxQueueBytes)),
    },
    window: { from, to },
    calls: null,
  };
  console.log(stepLine(record));
  return record;
}

/**
 * Waits until the server has finished the previous step's work (an overloaded step leaves a queue behind), so no
 * step pays for the one before it. The wait is reported, because a long one is itself a finding.
 */
async function settle(state: RunState): Promise<void> {
  await sleep(PAUSE_BETWEEN_STEPS_MS);
  const pids = state.servers.map((s) => s.pid);
  const t0 = performance.now();
  let quiet = 0;
  while (quiet < 2 && performance.now() - t0 < IDLE_TIMEOUT_MS) {
    const before = pids.map(sampleCpu);
    await sleep(IDLE_WINDOW_MS);
    const busy = pids.some((pid, i) => cpuPercent(before[i]!, sampleCpu(pid)) >= IDLE_CPU_PERCENT);
    quiet = busy ? 0 : quiet + 1;
  }
  const waited = (performance.now() - t0) / 1000;
  const previous = state.records.at(-1) ?? state.warmup;
  if (previous) previous.serverBusyAfterSeconds = Math.round(waited * 10) / 10;
  if (waited > 2)
    console.log(
      `  (the server stayed busy ${waited.toFixed(1)} s after that step${quiet < 2 ? ", and is still busy" : ""})`,
    );
}

/** Adds to each step what the server's database says about its calls (read after the server stopped). */
async function attachCallOutcomes(state: RunState): Promise<void> {
  const records = [state.warmup, ...state.records].filter((r): r is StepRecord => r !== null);
  const windows = records.map((r) => ({ ...r.window, startDueAt: r.startDueAt }));
  const databaseFile = state.servers[0]?.databaseFile;
  try {
    const outcomes = state.shared
      ? await readCallOutcomesFromPostgres(state.shared, windows)
      : databaseFile
        ? readCallOutcomes(databaseFile, windows)
        : [];
    records.forEach((r, i) => {
      r.calls = outcomes[i] ?? null;
    });
  } catch (error) {
    console.log(`no call outcomes from the server's database: ${(error as Error).message}`);
  }
}

/** Prints the table and the verdict, and writes .bench/last.json. */
function finish(state: RunState): void {
  const rows = tableRows(state.records, state.options.rates);
  const best = bestCleanRow(rows);
  const sustained = bestSustainedRow(rows);
  console.log(`\n${state.options.repeat > 1 ? `medians over ${state.options.repeat} rounds; ` : ""}errors summed\n`);
  console.log(`<!-- ${state.command} -->`);
  console.log(markdownTable(rows));
  console.log(
    best
      ? `\nhighest rate with zero errors: ${best.rate}/s offered, ${best.completedPerSecond.toFixed(0)} verifications/s completed`
      : "\nno rate ran with zero errors",
  );
  console.log(
    sustained
      ? `highest rate sustained (zero errors, >= 95% completed, no SIP drops, no failed calls): ${sustained.rate}/s`
      : "no rate was sustained (zero errors, >= 95% completed, no SIP drops, no failed calls)",
  );
  const bound = machineBound(rows, cpus().length);
  if (bound) {
    const { row } = bound;
    console.log(
      `at ${row.rate}/s offered (${row.completedPerSecond.toFixed(0)}/s completed) each verification cost ${row.serverCpuMsPerVerification.toFixed(2)} ms of server CPU and ` +
        `${row.loadCpuMsPerVerification.toFixed(2)} ms of load-process CPU: the load process alone fills its one ` +
        `thread at about ${Math.round(bound.loadAlonePerSecond)}/s, and both fill this machine's ${cpus().length} cores ` +
        `at about ${Math.round(bound.bothPerSecond)}/s`,
    );
  }
  const withCalls = [state.warmup, ...state.records].filter((r) => r?.calls);
  if (withCalls.length > 0) console.log("\ncalls as the server recorded them (attempts created during each step):");
  for (const r of withCalls) console.log(describeCallOutcomes(r!.label, r!.calls!));
  if (state.shutdownSeconds !== null)
    console.log(`server and load process stopped ${state.shutdownSeconds} s after SIGTERM`);
  state.servers.forEach((_, i) => {
    for (const line of summarizeServerLog(join(OUT_DIR, serverLogName(i)))) console.log(line);
  });
  console.log("");
  for (const line of describeSippCeiling(state.sipp, sustained?.completedPerSecond ?? null)) console.log(line);
  const sippCeiling = sippCeilingStep(state.sipp);
  mkdirSync(OUT_DIR, { recursive: true });
  const json = {
    command: state.command,
    ...state.header,
    servers: state.servers.map((s) => s.commandLine),
    options: state.options,
    warmup: state.warmup && withoutDues(state.warmup),
    steps: state.records.map(withoutDues),
    table: rows,
    best: best ?? null,
    sustained: sustained ?? null,
    machineBound: bound
      ? { rate: bound.row.rate, loadAlonePerSecond: bound.loadAlonePerSecond, bothPerSecond: bound.bothPerSecond }
      : null,
    shutdownSeconds: state.shutdownSeconds,
    sipp: state.sipp && {
      ...state.sipp,
      ceiling: sippCeiling ?? null,
      ratio: sippCeiling && sustained ? sustained.completedPerSecond / sippCeiling.callsPerSecond : null,
    },
  };
  writeFileSync(join(OUT_DIR, "last.json"), `${JSON.stringify(json, null, 2)}\n`);
  console.log("results: .bench/last.json");
}

/** A step as .bench/last.json keeps it: without one due time per verification. */
function withoutDues({ startDueAt: _, ...record }: StepRecord): Omit<StepRecord, "startDueAt"> {
  return record;
}

/** server.log for the first (or only) node, server-2.log ... for the others */
function serverLogName(node: number): string {
  return node === 0 ? "server.log" : `server-${node + 1}.log`;
}

function sum(values: number[]): number {
  return values.reduce((total, x) => total + x, 0);
}

function printProfiles(dir: string): void {
  try {
    for (const line of summarizeProfile(dir)) console.log(line);
  } catch (error) {
    console.log(`no profile summary: ${(error as Error).message}`);
  }
}

let progressShown = false;

function showProgress(p: ProgressMessage): void {
  if (!process.stderr.isTTY) return;
  progressShown = true;
  process.stderr.write(
    `\r  ${p.label}: ${p.second}s sent ${p.sent} verified ${p.verified} in flight ${p.inFlight} errors ${p.errors}   `,
  );
}

function clearProgress(): void {
  if (progressShown) process.stderr.write("\r\x1b[K");
  progressShown = false;
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    if (interrupted) return;
    console.error("bench failed:", error instanceof Error ? (error.stack ?? error.message) : error);
    await children.stopAll();
    process.exit(1);
  },
);
