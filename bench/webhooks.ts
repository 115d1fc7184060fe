/**
 * `npm run bench:webhooks`: how fast the outbox reaches a receiver. Events (four per verification, so deliveries form
 * chains that must leave in order) are written straight into the outbox of a fresh SQLite file and of a fresh
 * PostgreSQL schema, and webhook workers (one on SQLite; `--nodes` on PostgreSQL, each with its own connection pool,
 * as separate servers would have) deliver them to a loopback HTTP receiver that answers 200 at once. Two runs per
 * store: a steady `--rate` events/s for `--seconds`, reporting events/s delivered and the lag from an event's commit
 * to its arrival (p50/p99); and a `--backlog` of pending deliveries written before the workers start, reporting the
 * rate at which it drains. The backlog runs twice per store: with the planner's statistics fresh (ANALYZE after the
 * backlog is written) and stale (last analyzed while the table was empty, as autovacuum leaves it after a burst).
 * Workers, writer and receiver share this process (the figures include their CPU), so it is a floor. Each run also
 * prints the rate the writer managed (below `--rate` when it fell behind on a loaded machine) and this process's CPU
 * per 1,000 events delivered, which a loaded machine distorts less than the rates.
 *
 * Flags: --rate 1000, --seconds 20, --backlog 100000, --nodes 2, --postgres postgres://postgres@127.0.0.1:5432/test,
 * --only sqlite|postgres
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { systemClock } from "../src/core/ports.js";
import { WebhookWorker } from "../src/events/webhook-worker.js";
import { openPostgresStore } from "../src/storage/postgres.js";
import { openSqliteStore } from "../src/storage/sqlite.js";
import { flagValue } from "./args.js";
import { percentiles } from "./stats.js";

const rate = Number(flagValue("rate", "1000"));
const seconds = Number(flagValue("seconds", "20"));
const backlog = Number(flagValue("backlog", "100000"));
const nodeCount = Number(flagValue("nodes", "2"));
const postgresUrl = flagValue("postgres", "postgres://postgres@127.0.0.1:5432/test");
const only = flagValue("only", "");
const EVENTS_PER_VERIFICATION = 4;

/** The receiver: records when each event arrived. */
const arrivals = new Map<string, number>();
/** arrivals since the current run started */
let arrivedInRun = 0;
const receiver = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    const id = String(req.headers["webhook-id"]);
    if (!arrivals.has(id)) {
      arrivals.set(id, Date.now());
      arrivedInRun += 1;
    }
    res.writeHead(200).end();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;

/** Where events are written and how: one statement writes `n` verifications' events and their deliveries. */
interface Outbox {
  write(n: number, at: number): Promise<void>;
  analyze(): Promise<void>;
  /** the commit time of every event written, by id */
  written: Map<string, number>;
}

let verificationCounter = 0;
function eventRows(n: number, at: number): { id: string; verification: string }[] {
  const rows = [];
  for (let v = 0; v < n; v++) {
    verificationCounter += 1;
    for (let k = 0; k < EVENTS_PER_VERIFICATION; k++) {
      rows.push({ id: `evt_${verificationCounter}_${k}_${at}`, verification: `ver_${verificationCounter}` });
    }
  }
  return rows;
}

const ENDPOINT = `insert into webhook_endpoints (id, application_id, url, event_types, enabled, secret, created_at,
  updated_at) values ('whe_bench', 'app_default', '${receiverUrl}', '*', 1, 'whsec_YmVuY2hiZW5jaGJlbmNoYmVuY2g=', 0, 0)`;

function sqliteOutbox(file: string): Outbox {
  const db = new Database(file);
  db.pragma("busy_timeout = 5000");
  db.exec(ENDPOINT);
  // As on PostgreSQL: statistics taken while the outbox was empty.
  db.exec("analyze");
  const event = db.prepare(
    `insert into events (id, verification_id, application_id, type, data, created_at)
     values (?, ?, 'app_default', 'verification.started', '{}', ?)`,
  );
  const delivery = db.prepare(
    `insert into webhook_deliveries (id, endpoint_id, event_seq, event_id, verification_id, status, attempts,
       next_attempt_at, claimed_until, created_at) values (?, 'whe_bench', ?, ?, ?, 'pending', 0, ?, 0, ?)`,
  );
  const written = new Map<string, number>();
  const insert = db.transaction((rows: { id: string; verification: string }[], at: number) => {
    for (const r of rows) {
      const seq = event.run(r.id, r.verification, at).lastInsertRowid;
      delivery.run(`msg_${r.id}`, seq, r.id, r.verification, at, at);
    }
  });
  return {
    written,
    async write(n, at) {
      const rows = eventRows(n, at);
      insert(rows, at);
      const committed = Date.now();
      for (const r of rows) written.set(r.id, committed);
    },
    async analyze() {
      db.exec("analyze");
    },
  };
}

async function postgresOutbox(schema: string): Promise<Outbox & { close(): Promise<void> }> {
  const client = new pg.Client({ connectionString: postgresUrl, options: `-c search_path=${schema}` });
  await client.connect();
  await client.query(ENDPOINT);
  // As autovacuum leaves a table analyzed while it was empty.
  await client.query("analyze");
  const written = new Map<string, number>();
  return {
    written,
    async write(n, at) {
      const rows = eventRows(n, at);
      await client.query(
        `with e as (
           insert into events (id, verification_id, application_id, type, data, created_at)
           select id, v, 'app_default', 'verification.started', '{}', $3 from unnest($1::text[], $2::text[]) as r(id, v)
           returning seq, id, verification_id)
         insert into webhook_deliveries (id, endpoint_id, event_seq, event_id, verification_id, status, attempts,
           next_attempt_at, claimed_until, created_at)
         select 'msg_' || id, 'whe_bench', seq, id, verification_id, 'pending', 0, $3, 0, $3 from e`,
        [rows.map((r) => r.id), rows.map((r) => r.verification), at],
      );
      const committed = Date.now();
      for (const r of rows) written.set(r.id, committed);
    },
    async analyze() {
      await client.query("analyze");
    },
    close: () => client.end(),
  };
}

interface Result {
  store: string;
  run: string;
  events: number;
  /** the rate events were written at (below --rate when the writer, sharing this process, fell behind) */
  offeredPerSecond: number | null;
  seconds: number;
  eventsPerSecond: number;
  /** this process's CPU (workers, writer, receiver) per 1,000 events delivered */
  cpuMsPer1000: number;
  lagP50Ms: number;
  lagP99Ms: number;
}

/** Starts the workers, waits until every written event has arrived (or `limitMs`), stops them. */
async function deliver(
  workers: WebhookWorker[],
  outbox: Outbox,
  writing: Promise<void>,
  limitMs: number,
): Promise<number> {
  arrivedInRun = 0;
  for (const w of workers) w.start();
  await writing;
  const writtenBy = Date.now();
  const deadline = Date.now() + limitMs;
  // Arrivals are counted, not looked up: scanning 100,000 ids every 50 ms would cost the workers their CPU.
  while (Date.now() < deadline && arrivedInRun < outbox.written.size) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await Promise.all(workers.map((w) => w.stop()));
  return writtenBy;
}

function summarise(
  store: string,
  run: string,
  outbox: Outbox,
  startedAt: number,
  cpu: NodeJS.CpuUsage,
  writtenBy: number | null,
): Result {
  const lags: number[] = [];
  let last = startedAt;
  for (const [id, committed] of outbox.written) {
    const arrived = arrivals.get(id);
    if (arrived === undefined) continue;
    lags.push(arrived - committed);
    last = Math.max(last, arrived);
  }
  const p = percentiles(lags);
  const elapsed = (last - startedAt) / 1000;
  const used = process.cpuUsage(cpu);
  return {
    store,
    run,
    events: lags.length,
    offeredPerSecond: writtenBy === null ? null : Math.round(outbox.written.size / ((writtenBy - startedAt) / 1000)),
    seconds: Math.round(elapsed * 10) / 10,
    eventsPerSecond: Math.round(lags.length / elapsed),
    cpuMsPer1000: Math.round((used.user + used.system) / lags.length),
    lagP50Ms: p.p50,
    lagP99Ms: p.p99,
  };
}

/** Writes `rate` events/s in 50 ms slices for `seconds`, kicking the workers as the server's commits do. */
async function steady(outbox: Outbox, workers: WebhookWorker[]): Promise<void> {
  const perSlice = Math.max(1, Math.round(rate / 20 / EVENTS_PER_VERIFICATION));
  const started = performance.now();
  for (let slice = 0; performance.now() - started < seconds * 1000; slice++) {
    await outbox.write(perSlice, Date.now());
    for (const w of workers) w.kick();
    const next = started + (slice + 1) * 50;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
  }
}

async function writeBacklog(outbox: Outbox): Promise<void> {
  for (let left = backlog / EVENTS_PER_VERIFICATION; left > 0; left -= 1000) {
    await outbox.write(Math.min(1000, left), Date.now());
  }
}

const workerOptions = { clock: systemClock, allowed: new Set(["loopback"] as const), pollMs: 100, batchSize: 200 };
const results: Result[] = [];
/** Each run's figures as soon as it ends (a long run stopped early still tells what it measured). */
function record(result: Result): void {
  results.push(result);
  console.log(JSON.stringify(result));
}

async function runSqlite(): Promise<void> {
  for (const run of ["steady", "backlog, stale statistics", "backlog, fresh statistics"] as const) {
    const dir = mkdtempSync(join(tmpdir(), "flashverify-bench-webhooks-"));
    const file = join(dir, "bench.sqlite");
    const store = openSqliteStore(file);
    await store.migrate();
    const outbox = sqliteOutbox(file);
    const worker = new WebhookWorker({ ...workerOptions, store: store.webhooks });
    if (run !== "steady") await writeBacklog(outbox);
    if (run === "backlog, fresh statistics") await outbox.analyze();
    const startedAt = Date.now();
    const cpu = process.cpuUsage();
    const writing = run === "steady" ? steady(outbox, [worker]) : Promise.resolve();
    const writtenBy = await deliver([worker], outbox, writing, 600_000);
    record(summarise("sqlite, 1 node", run, outbox, startedAt, cpu, run === "steady" ? writtenBy : null));
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runPostgres(): Promise<void> {
  for (const run of ["steady", "backlog, stale statistics", "backlog, fresh statistics"] as const) {
    const schema = `fv_bench_webhooks_${process.pid}_${results.length}`;
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    const stores = Array.from({ length: nodeCount }, () =>
      openPostgresStore(postgresUrl, { schema, maxConnections: 8 }),
    );
    try {
      await stores[0]?.migrate();
      const outbox = await postgresOutbox(schema);
      const workers = stores.map((store) => new WebhookWorker({ ...workerOptions, store: store.webhooks }));
      if (run !== "steady") await writeBacklog(outbox);
      if (run === "backlog, fresh statistics") await outbox.analyze();
      const startedAt = Date.now();
      const cpu = process.cpuUsage();
      const writing = run === "steady" ? steady(outbox, workers) : Promise.resolve();
      const writtenBy = await deliver(workers, outbox, writing, 600_000);
      const by = run === "steady" ? writtenBy : null;
      record(summarise(`postgres, ${nodeCount} nodes`, run, outbox, startedAt, cpu, by));
      await outbox.close();
    } finally {
      await Promise.all(stores.map((store) => store.close()));
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    }
  }
}

console.log(
  `bench:webhooks --rate ${rate} --seconds ${seconds} --backlog ${backlog} --nodes ${nodeCount}` +
    ` (load average ${(await import("node:os"))
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(" ")})`,
);
if (only !== "postgres") await runSqlite();
if (only !== "sqlite") await runPostgres();
console.table(results);
receiver.close();
