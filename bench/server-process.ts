/**
 * Starts the server under test as its own process, exactly as an operator would (`node dist/src/cli/main.js
 * serve`, configured only by environment variables), so its CPU and memory can be read from /proc and profiled
 * with --cpu-prof. It inherits nothing from the caller's environment but PATH and HOME: a stray FLASHVERIFY_CONFIG
 * or LOG_LEVEL in a developer's shell must not change the benchmark.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/**
 * Where the server keeps its state: a SQLite file in the temp dir, or PostgreSQL (a schema of the run's own) with
 * Redis (keys under a prefix of the run's own). Nodes sharing PostgreSQL share the code secret too, so a check may
 * reach another node than its start.
 */
export type ServerStore =
  | { kind: "sqlite" }
  | { kind: "postgres"; url: string; schema: string; redisUrl: string; redisPrefix: string; secret: string };

export interface ServerOptions {
  tempDir: string;
  store: ServerStore;
  apiKey: string;
  trunk: { host: string; port: number };
  nodeArgs: string[];
  /** the server's stdout and stderr go here */
  logFile: string;
  /** settings over the bench's defaults */
  env?: Record<string, string>;
}

export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  baseUrl: string;
  /** the SQLite file, for reading the server's records after it stopped; null on PostgreSQL */
  databaseFile: string | null;
  /** the command with its environment, for the report (API key elided) */
  commandLine: string;
}

const DIST = fileURLToPath(new URL("..", import.meta.url));
const MAIN = join(DIST, "src", "cli", "main.js");
const GUARD = pathToFileURL(join(DIST, "bench", "orphan-guard.js")).href;
const READY_TIMEOUT_MS = 30_000;
/** As `npm start` and the Dockerfile run it: the young generation capped at 4 MiB per semi-space (README "Memory"). */
export const SERVE_NODE_FLAGS = ["--max-semi-space-size=4"];

/**
 * The bench is one backend on 127.0.0.1 without client IPs, starting 2,000 verifications/s to consecutive numbers
 * (10,000 per prefix) at list prices: the production defaults would rightly refuse it within a second (per-IP and
 * per-prefix limits, the spend cap), and its first 20 sends to each new prefix go out before any has verified,
 * which the pumping detector reads as pumping; and once the machine falls behind, the sends waiting for their
 * checks look like pumping too (at 2,800/s offered it refused 565 starts, at 3,200/s all of them: a bench artefact,
 * not a measurement). So the limits are set out of reach rather than off, and the detector runs in shadow mode
 * (it counts, judges and records, and refuses nothing): every start and check still pays for its counters.
 */
export const BENCH_FRAUD_SETTINGS: Record<string, string> = {
  FRAUD_START_LIMITS: "destination=1000000/10m,prefix=1000000/10m,ip=1000000/10m,device=1000000/10m",
  FRAUD_CHECK_LIMITS: "destination=1000000/10m,ip=1000000/10m",
  FRAUD_PUMPING: "shadow",
  FRAUD_PUMPING_MIN_SENDS_PREFIX: "1000",
  FRAUD_PUMPING_MIN_SENDS_COUNTRY: "10000",
  FRAUD_DAILY_SPEND_USD: "1000000",
  FRAUD_DAILY_SPEND_COUNTRY_USD: "1000000",
};

/** Spawns the server and resolves once /readyz answers 200; rejects if it exits or times out first. */
export async function startServer(options: ServerOptions): Promise<ServerProcess> {
  const port = await freePort();
  const { store } = options;
  const databaseFile = store.kind === "sqlite" ? join(options.tempDir, "bench.db") : null;
  const storeEnv: Record<string, string> =
    store.kind === "sqlite"
      ? { DATABASE_URL: `sqlite:${databaseFile}` }
      : {
          DATABASE_URL: withSearchPath(store.url, store.schema),
          REDIS_URL: store.redisUrl,
          REDIS_PREFIX: store.redisPrefix,
          FLASHVERIFY_SECRET: store.secret,
        };
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: "127.0.0.1",
    ...storeEnv,
    FLASHVERIFY_API_KEY: options.apiKey,
    SANDBOX: "off",
    SIP_TRUNK_HOST: options.trunk.host,
    SIP_TRUNK_PORT: String(options.trunk.port),
    SIP_LOCAL_ADDRESS: "127.0.0.1",
    SIP_RING_TIME_MS: "0",
    POOL_NUMBERS: "+4420794xxxxx",
    LOG_LEVEL: "warn",
    ...BENCH_FRAUD_SETTINGS,
    // The memory/throughput trade of `serve` is the operator's; a bench run may set it to compare.
    ...(process.env.HEAP_BUDGET_MB ? { HEAP_BUDGET_MB: process.env.HEAP_BUDGET_MB } : {}),
    ...options.env,
  };
  const args = [...SERVE_NODE_FLAGS, ...options.nodeArgs, "--import", GUARD, MAIN, "serve"];
  const inherited = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp" };
  const log = createWriteStream(options.logFile);
  const child = spawn(process.execPath, args, { env: { ...inherited, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  if (child.pid === undefined) throw new Error("could not spawn the server");

  const secrets = {
    FLASHVERIFY_API_KEY: "<random>",
    ...(store.kind === "postgres" ? { FLASHVERIFY_SECRET: "<random>" } : {}),
  };
  const shown = Object.entries({ ...env, ...secrets }).map(([k, v]) => `${k}=${v}`);
  const relative = (p: string) => p.replace(`${process.cwd()}/`, "");
  const commandLine = [...shown, "node", ...SERVE_NODE_FLAGS, ...options.nodeArgs, relative(MAIN), "serve"].join(" ");
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitReady(child, baseUrl, options.logFile);
  return { child, pid: child.pid, baseUrl, databaseFile, commandLine };
}

/**
 * The URL with `-c search_path=<schema>` added to its connection options, so the server works in that schema; options
 * already in --postgres-url (say `-c synchronous_commit=off`) are kept.
 */
function withSearchPath(url: string, schema: string): string {
  const parsed = new URL(url);
  const given = parsed.searchParams.get("options");
  parsed.searchParams.set("options", `${given ? `${given} ` : ""}-c search_path=${schema}`);
  return parsed.toString();
}

async function waitReady(child: ChildProcess, baseUrl: string, logFile: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the server exited during start (${child.exitCode ?? child.signalCode}); see ${logFile}`);
    }
    try {
      const response = await fetch(`${baseUrl}/readyz`);
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the server was not ready within ${READY_TIMEOUT_MS / 1000} s; see ${logFile}`);
}

/** An unused loopback TCP port (the server is configured by PORT and logs nothing at warn level to read it from). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
