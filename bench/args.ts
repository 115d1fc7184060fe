/**
 * Command-line flags of `npm run bench`. Defaults describe the standard run quoted in the README: four rates,
 * ten seconds each, three rounds so every figure can be a median on a shared, noisy machine.
 */
import { parseArgs } from "node:util";

export interface BenchOptions {
  /** verifications started per second, one step each */
  rates: number[];
  seconds: number;
  /** rounds over all rates; figures are medians over rounds */
  repeat: number;
  warmupRate: number;
  warmupSeconds: number;
  /** how long a step waits for its last verifications after sending stops */
  drainSeconds: number;
  /** keep-alive connections of the load generator, each for the backend (starts) and the apps (checks) */
  maxSockets: number;
  handsetsAddress: string;
  /** extra node flags for the server process, e.g. "--cpu-prof --max-old-space-size=512" */
  serverNodeArgs: string[];
  /** shorthand: profile the server (--cpu-prof into .bench/profiles) */
  cpuProf: boolean;
  stopOnFailure: boolean;
  keepTemp: boolean;
  /** SIPp-to-SIPp calls per second, one step each, measured after the server steps; empty with --no-sipp */
  sippRates: number[];
  sippSeconds: number;
  /** where the server keeps its state: one process on SQLite, or `nodes` processes on PostgreSQL and Redis */
  store: "sqlite" | "postgres";
  nodes: number;
  postgresUrl: string;
  redisUrl: string;
}

export const USAGE = `usage: npm run bench -- [flags]

  --rates 500,1000,1500,2000   verifications started per second, one step each
  --seconds 10                 length of each step
  --repeat 3                   rounds over all rates; the table shows medians over rounds
  --warmup-rate 250            warm-up before the first step (not reported)
  --warmup-seconds 3           0 disables the warm-up
  --drain-seconds 5            wait this long after a step for verifications still in flight
  --max-sockets 64             keep-alive connections for starts, and as many again for checks
  --handsets-address 127.0.0.3 loopback address of the virtual handsets
  --server-node-args="FLAGS"   extra node flags for the server, with "=" (also BENCH_SERVER_NODE_ARGS)
  --cpu-prof                   profile the server: writes .bench/profiles/*.cpuprofile
  --stop-on-failure            skip the remaining steps after a failed one
  --keep-temp                  keep the temp dir (SQLite database) for inspection
  --sipp-rates 10000,20000,25000 SIPp-to-SIPp flash calls per second for the ceiling, one step each
  --sipp-seconds 5             length of each SIPp step
  --no-sipp                    skip the SIPp-to-SIPp ceiling
  --store sqlite               sqlite (one server process) or postgres (PostgreSQL + Redis, --nodes processes)
  --nodes 2                    server processes with --store postgres; requests go to them round-robin
  --postgres-url URL           with --store postgres; a fresh schema is made in it and dropped after
                               (default postgres://postgres@127.0.0.1:5432/test, also BENCH_POSTGRES_URL)
  --redis-url URL              with --store postgres; keys get a fresh prefix, deleted after
                               (default redis://127.0.0.1:6379, also BENCH_REDIS_URL)`;

export function parseBenchArgs(argv: string[], env: Record<string, string | undefined>): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      rates: { type: "string", default: "500,1000,1500,2000" },
      seconds: { type: "string", default: "10" },
      repeat: { type: "string", default: "3" },
      "warmup-rate": { type: "string", default: "250" },
      "warmup-seconds": { type: "string", default: "3" },
      "drain-seconds": { type: "string", default: "5" },
      "max-sockets": { type: "string", default: "64" },
      "handsets-address": { type: "string", default: "127.0.0.3" },
      "server-node-args": { type: "string", default: env.BENCH_SERVER_NODE_ARGS ?? "" },
      "cpu-prof": { type: "boolean", default: false },
      "stop-on-failure": { type: "boolean", default: false },
      "keep-temp": { type: "boolean", default: false },
      "sipp-rates": { type: "string", default: "10000,20000,25000" },
      "sipp-seconds": { type: "string", default: "5" },
      "no-sipp": { type: "boolean", default: false },
      store: { type: "string", default: "sqlite" },
      nodes: { type: "string" },
      "postgres-url": { type: "string", default: env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test" },
      "redis-url": { type: "string", default: env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) throw new UsageError("");
  const rates = values.rates.split(",").map((r) => positive("--rates", r));
  if (values.store !== "sqlite" && values.store !== "postgres") {
    throw new UsageError(`--store: "${values.store}" is neither sqlite nor postgres`);
  }
  const nodes = Math.round(positive("--nodes", values.nodes ?? (values.store === "postgres" ? "2" : "1")));
  if (values.store === "sqlite" && nodes !== 1) {
    throw new UsageError(
      "--nodes: SQLite is served by one process (its database has one server); use --store postgres",
    );
  }
  return {
    rates,
    seconds: positive("--seconds", values.seconds),
    repeat: Math.round(positive("--repeat", values.repeat)),
    warmupRate: positive("--warmup-rate", values["warmup-rate"]),
    warmupSeconds: nonNegative("--warmup-seconds", values["warmup-seconds"]),
    drainSeconds: nonNegative("--drain-seconds", values["drain-seconds"]),
    maxSockets: Math.round(positive("--max-sockets", values["max-sockets"])),
    handsetsAddress: values["handsets-address"],
    serverNodeArgs: values["server-node-args"].split(/\s+/).filter(Boolean),
    cpuProf: values["cpu-prof"],
    stopOnFailure: values["stop-on-failure"],
    keepTemp: values["keep-temp"],
    sippRates: values["no-sipp"]
      ? []
      : values["sipp-rates"].split(",").map((r) => Math.round(positive("--sipp-rates", r))),
    sippSeconds: positive("--sipp-seconds", values["sipp-seconds"]),
    store: values.store,
    nodes,
    postgresUrl: values["postgres-url"],
    redisUrl: values["redis-url"],
  };
}

export class UsageError extends Error {
  override readonly name = "UsageError";
}

function positive(flag: string, text: string): number {
  const value = Number(text.trim());
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`${flag}: "${text}" is not a positive number`);
  return value;
}

function nonNegative(flag: string, text: string): number {
  const value = Number(text.trim());
  if (!Number.isFinite(value) || value < 0) throw new UsageError(`${flag}: "${text}" is not a number >= 0`);
  return value;
}

/**
 * `--name value` flags of the small single-purpose benches (bench:core, bench:fraud, bench:dashboard), read from
 * this process's arguments: the value after the flag, or `fallback` when the flag is absent.
 */
export function flagValue(name: string, fallback: string): string {
  const args = process.argv.slice(2);
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] !== undefined ? (args[at + 1] as string) : fallback;
}
