/**
 * `npm run bench:memory`: how much memory the server needs to hold many live verifications at once. It starts the
 * server in its own process (as `npm run bench` does: SQLite in a temp dir, `SANDBOX=off`, its trunk pointed at
 * virtual handsets in this process, so the handsets' call logs are not charged to the server), starts `--count`
 * verifications to distinct numbers as fast as the server takes them, and reads the server's resident memory from
 * /proc and its heap from /metrics: before the first start, once the last one has been answered (with the calls
 * of the last `--ring-ms` still ringing), and after those calls ended. The flash-call TTL is the longest the
 * server allows (120 s), and the database says how many verifications were still pending at each reading: those are
 * the live ones the figures are divided by.
 *
 * The fraud controls stay on with every counter kept, as in `npm run bench` (limits out of reach, not off).
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import { VirtualHandsets } from "../src/sandbox/handsets.js";
import { Children } from "./children.js";
import { JsonClient } from "./http-client.js";
import { PhoneNumbers } from "./phone-numbers.js";
import { cpuPercent, sampleCpu, sampleMemory } from "./proc-stats.js";
import { machineInfo } from "./run-info.js";
import { startServer } from "./server-process.js";

const USAGE = `usage: npm run bench:memory -- [flags]

  --count 100000              verifications to start and hold
  --concurrency 8             start requests in flight at once
  --ring-ms 1500              the server's SIP_RING_TIME_MS: how long each call rings before its CANCEL (max 30000)
  --handsets-address 127.0.3.1 loopback address of the virtual handsets
  --server-node-args="FLAGS"  extra node flags for the server
  --heap-snapshot             after the last reading, write the server's heap snapshot into .bench/
  --keep-temp                 keep the temp dir (SQLite database)`;

/** The longest a flash call may stay checkable (FLASHCALL_TTL_SECONDS' maximum): the window to fill and measure in. */
const TTL_SECONDS = 120;
/** the goal: 300 MB (decimal), about 286 MiB */
const TARGET_BYTES = 300e6;

interface Reading {
  label: string;
  rssMiB: number;
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
  pending: number;
  callsInFlight: number;
}

function parse(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      count: { type: "string", default: "100000" },
      concurrency: { type: "string", default: "8" },
      "ring-ms": { type: "string", default: "1500" },
      "handsets-address": { type: "string", default: "127.0.3.1" },
      "server-node-args": { type: "string", default: "" },
      "keep-temp": { type: "boolean", default: false },
      "heap-snapshot": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (name: string, text: string, min: number, max: number) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name}: expected an integer ${min}..${max}`);
    return n;
  };
  return {
    count: int("count", values.count, 1, 900_000),
    concurrency: int("concurrency", values.concurrency, 1, 1024),
    ringMs: int("ring-ms", values["ring-ms"], 0, 30_000),
    handsetsAddress: values["handsets-address"],
    serverNodeArgs: values["server-node-args"].split(/\s+/).filter(Boolean),
    keepTemp: values["keep-temp"],
    heapSnapshot: values["heap-snapshot"],
  };
}

function commandLine(): string {
  const args = process.argv.slice(2).join(" ");
  return process.env.npm_lifecycle_event === "bench:memory"
    ? `npm run bench:memory${args ? ` -- ${args}` : ""}`
    : `node dist/bench/memory.js ${args}`.trim();
}

/** One gauge's value from the Prometheus text, in MiB. */
function gaugeMiB(text: string, name: string): number {
  const match = new RegExp(`^flashverify_${name} ([0-9.e+]+)$`, "m").exec(text);
  return match ? Math.round((Number(match[1]) / 1048576) * 10) / 10 : Number.NaN;
}

async function main(): Promise<number> {
  const options = parse(process.argv.slice(2));
  const children = new Children();
  const tempDir = mkdtempSync(join(tmpdir(), "flashverify-bench-memory-"));
  const logDir = resolve(".bench");
  mkdirSync(logDir, { recursive: true });
  const apiKey = `fvk_bench_${randomBytes(12).toString("hex")}`;
  const handsets = await VirtualHandsets.create({
    address: options.handsetsAddress,
    port: 0,
    maxPhones: options.count,
    maxCallsPerPhone: 1,
    ringTimeoutMs: options.ringMs + 30_000,
  });
  let db: Database.Database | null = null;
  let client: JsonClient | null = null;
  children.installExitHandlers(async () => 130);
  try {
    const server = await startServer({
      tempDir,
      store: { kind: "sqlite" },
      apiKey,
      trunk: { host: handsets.local.address, port: handsets.local.port },
      nodeArgs: options.heapSnapshot
        ? [...options.serverNodeArgs, "--heapsnapshot-signal=SIGUSR2", `--diagnostic-dir=${logDir}`]
        : options.serverNodeArgs,
      logFile: join(logDir, "server-memory.log"),
      env: {
        SIP_RING_TIME_MS: String(options.ringMs),
        FLASHCALL_TTL_SECONDS: String(TTL_SECONDS),
        // A million caller IDs, so that 100,000 live leases leave random draws almost always free.
        POOL_NUMBERS: "+442079xxxxxx",
        // Nothing is checked here, so every prefix converts at 0%: the pumping detector would rightly stop the run.
        FRAUD_PUMPING_MIN_SENDS_PREFIX: "100000000",
        FRAUD_PUMPING_MIN_SENDS_COUNTRY: "100000000",
      },
    });
    children.add(server.child, "server");
    db = new Database(server.databaseFile as string, { readonly: true, fileMustExist: true });
    const pendingQuery = db.prepare(
      "SELECT count(*) AS n FROM verifications WHERE status = 'pending' AND expires_at > ?",
    );
    const callsQuery = db.prepare("SELECT count(*) AS n FROM attempts WHERE status IN ('dialing', 'ringing')");
    const read = async (label: string): Promise<Reading> => {
      const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
      const memory = sampleMemory(server.pid);
      return {
        label,
        rssMiB: memory.rssMiB,
        heapUsedMiB: gaugeMiB(metrics, "nodejs_heap_size_used_bytes"),
        heapTotalMiB: gaugeMiB(metrics, "nodejs_heap_size_total_bytes"),
        externalMiB: gaugeMiB(metrics, "nodejs_external_memory_bytes"),
        pending: (pendingQuery.get(Date.now()) as { n: number }).n,
        callsInFlight: (callsQuery.get() as { n: number }).n,
      };
    };

    console.log(`# ${commandLine()}`);
    for (const [k, v] of Object.entries(machineInfo())) console.log(`# ${k}: ${v}`);
    console.log(`# server: ${server.commandLine}`);
    await sleep(2000);
    const readings = [await read("idle, before the first start")];

    client = new JsonClient(server.baseUrl, options.concurrency);
    const phones = new PhoneNumbers();
    const errors = new Map<string, number>();
    let started = 0;
    let issued = 0;
    let shed = 0;
    const t0 = performance.now();
    const cpu0 = sampleCpu(server.pid);
    const progress = setInterval(() => {
      const s = (performance.now() - t0) / 1000;
      const rss = sampleMemory(server.pid).rssMiB;
      console.log(
        `  ${s.toFixed(0).padStart(4)} s  started ${started}  (${Math.round(started / s)}/s)  RSS ${rss} MiB`,
      );
    }, 10_000);
    const worker = async (http: JsonClient) => {
      while (issued < options.count) {
        issued++;
        const phone = phones.next();
        let response = await http.post("/v1/verifications", apiKey, { phone }).catch(() => null);
        // Load shedding (OVERLOADED) asks to come back later: the bench does, so the count is reached on a busy machine.
        while (
          response?.status === 503 &&
          (response.body as { error?: { code?: string } })?.error?.code === "OVERLOADED"
        ) {
          shed++;
          await sleep(100);
          response = await http.post("/v1/verifications", apiKey, { phone }).catch(() => null);
        }
        if (response?.status === 201) started++;
        else {
          const code = (response?.body as { error?: { code?: string } } | undefined)?.error?.code;
          const key = response ? `${response.status} ${code ?? ""}` : "socket error";
          errors.set(key, (errors.get(key) ?? 0) + 1);
        }
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, () => worker(client as JsonClient)));
    clearInterval(progress);
    const fillSeconds = (performance.now() - t0) / 1000;
    const cpu1 = sampleCpu(server.pid);
    readings.push(await read("all started, last calls ringing"));
    console.log(
      `  all started in ${fillSeconds.toFixed(1)} s; waiting ${(options.ringMs + 3000) / 1000} s for the last calls to end`,
    );
    await sleep(options.ringMs + 3000);
    readings.push(await read("calls ended, verifications pending"));
    const peak = sampleMemory(server.pid).peakRssMiB;
    const afterSeconds = (performance.now() - t0) / 1000;

    const base = readings[0] as Reading;
    console.log(
      `\nstarted ${started} of ${options.count} in ${fillSeconds.toFixed(1)} s (${Math.round(started / fillSeconds)}/s)` +
        `${shed ? `; ${shed} shed (503 OVERLOADED) and retried` : ""}` +
        `${errors.size ? `; refused: ${[...errors].map(([k, n]) => `${n} x ${k}`).join(", ")}` : ""}`,
    );
    console.log(
      `server CPU while filling: ${cpuPercent(cpu0, cpu1)}% of a core, ` +
        `${Math.round(((cpu1.cpuSeconds - cpu0.cpuSeconds) * 1e6) / Math.max(1, started))} µs per start (main and SIP threads, GC included)`,
    );
    console.log(
      "\n| reading | live verifications | calls in flight | RSS MiB | heap used / total MiB | external MiB | RSS above idle per live verification |",
    );
    console.log("|---|---:|---:|---:|---:|---:|---:|");
    for (const r of readings) {
      const per = r.pending > 0 ? `${Math.round(((r.rssMiB - base.rssMiB) * 1048576) / r.pending)} B` : "";
      console.log(
        `| ${r.label} | ${r.pending} | ${r.callsInFlight} | ${r.rssMiB} | ${r.heapUsedMiB} / ${r.heapTotalMiB} | ${r.externalMiB} | ${per} |`,
      );
    }
    const last = readings.at(-1) as Reading;
    const held = readings.slice(1).every((r) => r.pending >= options.count && r.rssMiB * 1048576 < TARGET_BYTES);
    console.log(
      `\nserver peak RSS (VmHWM): ${peak} MiB; target: ${options.count} live verifications under ${TARGET_BYTES / 1e6} MB (${Math.floor(TARGET_BYTES / 1048576)} MiB) RSS: ` +
        `${held ? "met" : "NOT met"}` +
        (afterSeconds > TTL_SECONDS ? ` (the fill took longer than the ${TTL_SECONDS} s TTL: early ones expired)` : ""),
    );
    if (last.pending < started) console.log(`note: ${started - last.pending} verifications were no longer pending`);
    if (options.heapSnapshot) console.log(`heap snapshot: ${await heapSnapshot(server.pid, logDir)}`);
    return held ? 0 : 1;
  } finally {
    client?.close();
    db?.close();
    await children.stopAll();
    await handsets.close();
    if (!options.keepTemp) rmSync(tempDir, { recursive: true, force: true });
    else console.log(`# temp dir kept: ${tempDir}`);
  }
}

/** Signals the server to write a heap snapshot and waits until the file stops growing. */
async function heapSnapshot(pid: number, dir: string): Promise<string> {
  const before = new Set(readdirSync(dir));
  process.kill(pid, "SIGUSR2");
  let file: string | undefined;
  let size = -1;
  for (let i = 0; i < 600; i++) {
    await sleep(1000);
    file ??= readdirSync(dir).find((f) => f.endsWith(".heapsnapshot") && !before.has(f));
    if (!file) continue;
    const now = statSync(join(dir, file)).size;
    if (now === size && now > 0) return join(dir, file);
    size = now;
  }
  return "not written";
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
