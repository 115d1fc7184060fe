/**
 * `npm run bench:core`: what one complete flash-call verification costs the core and the SQLite store, alone in
 * this process: no HTTP, no SIP. It runs the real VerificationService over a SQLite file (as `serve` opens it),
 * the fraud controls with the load bench's settings, and a channel that rings and ends each call on the next turn
 * of the event loop, as the SIP thread's reports would arrive; then checks each verification with its caller ID.
 * CPU time is read from the process, so the figure moves little with the rest of the machine, which makes it the
 * one to compare a change of the core or the store by (`npm run bench` measures the whole server); the main thread's
 * own share is printed beside it, since that thread is the server's limit and SQLite's writer runs beside it.
 *
 * Flags: --count 20000 (verifications per pass), --concurrency 64 (in flight at once), --passes 3.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../src/config.js";
import { CodeHasher } from "../src/core/codes.js";
import { PoolRegistry } from "../src/core/pool-registry.js";
import type { AttemptProgress, Channel, OutboundMessage } from "../src/core/ports.js";
import { VerificationService } from "../src/core/verification-service.js";
import { LocalEventHub } from "../src/events/event-hub.js";
import { createFraudControls } from "../src/fraud/index.js";
import { openSqliteStore } from "../src/storage/sqlite.js";
import { flagValue } from "./args.js";
import { PhoneNumbers } from "./phone-numbers.js";
import { statCpuSeconds } from "./proc-stats.js";
import { BENCH_FRAUD_SETTINGS } from "./server-process.js";
import { median } from "./stats.js";

const flag = flagValue;
const count = Number(flag("count", "20000"));
const concurrency = Number(flag("concurrency", "64"));
const passes = Number(flag("passes", "3"));
const APP = "app_default";

/** Rings and answers each call on the next turn, like the SIP thread's reports, and tells who was called by what. */
class InstantChannel implements Channel {
  readonly name = "flashcall" as const;
  readonly calls = new Map<string, (cli: string) => void>();

  send(message: OutboundMessage, progress: AttemptProgress): void {
    setImmediate(() => {
      const at = Date.now();
      progress.ringing(at);
      progress.ended({ at, delivered: true, reason: "delivered", sipCode: 487 });
      this.calls.get(message.to)?.(message.cli);
    });
  }

  cancel(): void {}

  async close(): Promise<void> {}
}

const dir = mkdtempSync(join(tmpdir(), "flashverify-bench-core-"));
const store = openSqliteStore(join(dir, "core.db"));
await store.migrate();
await store.upsertPool({
  id: "pool_default",
  name: "default",
  numbers: ["+4420794xxxxx"],
  codeLength: 4,
  countries: ["*"],
  createdAt: 0,
});
const pools = new PoolRegistry(store);
await pools.refresh();
const clock = { now: () => Date.now() };
const config = loadConfig({ DATABASE_URL: "sqlite::memory:", ...BENCH_FRAUD_SETTINGS });
const fraud = await createFraudControls(config.fraud, { store, clock });
const channel = new InstantChannel();
const events = new LocalEventHub();
const service = new VerificationService({
  store,
  clock,
  hasher: new CodeHasher("b".repeat(32)),
  pools,
  channels: { flashcall: channel },
  fraud,
  events,
  settings: {
    flashcallTtlMs: 60_000,
    verificationTtlMs: 600_000,
    flashcallMaxChecks: 3,
    clientTokenGraceMs: 600_000,
    attemptDeadlineMs: 120_000,
  },
  onBackgroundError: (error) => {
    throw error;
  },
});
const phones = new PhoneNumbers();

/** One verification: start, wait for the call, check with its caller ID; throws unless it verifies. */
async function verifyOne(): Promise<void> {
  const phone = phones.next();
  const called = new Promise<string>((resolve) => channel.calls.set(phone, resolve));
  const started = await service.start(APP, { phone, client: { ip: "127.0.0.1" } }, { requestIp: "127.0.0.1" });
  if (!started.ok) throw new Error(`start: ${started.error.code}`);
  const cli = await called;
  channel.calls.delete(phone);
  const access = { kind: "application", applicationId: APP } as const;
  const checked = await service.check(started.value.verification.id, access, { callerId: cli });
  if (!checked.ok || checked.value.verification.status !== "verified") {
    throw new Error(`check: ${checked.ok ? checked.value.verification.status : checked.error.code}`);
  }
}

/**
 * CPU time of the main thread alone (µs; Linux's per-thread accounting, null elsewhere): the server's throughput
 * limit is this thread, while SQLite's writer, the WAL checkpointer and V8's GC threads run beside it.
 */
function mainThreadCpuUs(): number | null {
  try {
    return statCpuSeconds(`/proc/self/task/${process.pid}/stat`) * 1_000_000;
  } catch {
    return null;
  }
}

async function pass(): Promise<{ cpuUs: number; mainUs: number | null; wallMs: number }> {
  let next = 0;
  const worker = async () => {
    while (next++ < count) await verifyOne();
  };
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpuUs();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const main1 = mainThreadCpuUs();
  const mainUs = main0 === null || main1 === null ? null : (main1 - main0) / count;
  return { cpuUs: (cpu.user + cpu.system) / count, mainUs, wallMs };
}

console.log(
  `# npm run bench:core -- --count ${count} --concurrency ${concurrency} --passes ${passes}   (node ${process.version})`,
);
const results: number[] = [];
const mainResults: number[] = [];
for (let i = 1; i <= passes; i++) {
  const { cpuUs, mainUs, wallMs } = await pass();
  results.push(cpuUs);
  if (mainUs !== null) mainResults.push(mainUs);
  const main = mainUs === null ? "" : ` (main thread ${mainUs.toFixed(0)} µs)`;
  console.log(
    `pass ${i}: ${cpuUs.toFixed(0)} µs of CPU per verification (all threads)${main}, ${Math.round((count * 1000) / wallMs)} verifications/s`,
  );
}
const mainMedian = mainResults.length === passes ? `; main thread ${median(mainResults).toFixed(0)} µs` : "";
console.log(
  `median: ${median(results).toFixed(0)} µs of CPU per verification${mainMedian}, start to verified, without HTTP and SIP`,
);
fraud.close();
await store.close();
rmSync(dir, { recursive: true, force: true });
