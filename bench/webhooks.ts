/**
 * `npm run bench:webhooks`: how fast the outbox reaches a receiver. Events (four per verification, so deliveries form
 * chains that must leave in order) are written straight into the outbox of a fresh SQLite file and of a fresh
 * PostgreSQL schema by this process (the writer), and server nodes, each a process of its own with its own store
 * and webhook worker (one on SQLite; `--nodes` on PostgreSQL), deliver them to `--receivers` receiver processes
 * sharing one loopback endpoint, which check every signature. Two runs per store: a steady `--rate` events/s for
 * `--seconds`, reporting events/s delivered and the lag from an event's commit to its arrival (p50/p99); and a
 * `--backlog` of pending deliveries written before the nodes start, reporting the rate at which it drains. The
 * backlog runs twice per store: with the planner's statistics fresh (ANALYZE after the backlog is written) and
 * stale (last analyzed while the table was empty, as autovacuum leaves it after a burst). Each run also prints the
 * rate the writer managed (below `--rate` when it fell behind on a loaded machine) and the CPU per 1,000 events
 * delivered of each part: the nodes, the receivers, PostgreSQL's backends serving the nodes, and this process; CPU
 * is what a loaded machine distorts least, and says what two cores can carry.
 *
 * Flags: --rate 1000, --seconds 20, --backlog 100000, --nodes 2, --receivers 1, --in-flight (the worker's default),
 * --postgres postgres://postgres@127.0.0.1:5432/test, --only sqlite|postgres, --address 127.0.33.1
 */
import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import pg from "pg";
import { openPostgresStore } from "../src/storage/postgres.js";
import { openSqliteStore } from "../src/storage/sqlite.js";
import { flagValue } from "./args.js";
import { sampleCpu } from "./proc-stats.js";
import { percentiles } from "./stats.js";
import type { NodeCommand, NodeMessage } from "./webhooks-node.js";
import type { ReceiverCommand, ReceiverMessage } from "./webhooks-receiver.js";

const rate = Number(flagValue("rate", "1000"));
const seconds = Number(flagValue("seconds", "20"));
const backlog = Number(flagValue("backlog", "100000"));
const nodeCount = Number(flagValue("nodes", "2"));
const receiverCount = Number(flagValue("receivers", "1"));
const postgresUrl = flagValue("postgres", "postgres://postgres@127.0.0.1:5432/test");
const only = flagValue("only", "");
const address = flagValue("address", "127.0.33.1");
/** the nodes' webhook workers' sequences in flight; the worker's default when absent */
const inFlight = Number(flagValue("in-flight", "0")) || undefined;
const EVENTS_PER_VERIFICATION = 4;
const SECRET = "whsec_YmVuY2hiZW5jaGJlbmNoYmVuY2g=";
/** The nodes' PostgreSQL connections carry this name, so their backends' CPU can be read from /proc. */
const NODE_APPLICATION_NAME = `fv-bench-webhooks-${process.pid}`;

// The children run the same build as this file: dist's .js, or the sources' .ts under the TypeScript loader.
const extension = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const child = (name: string) => fileURLToPath(new URL(`./${name}${extension}`, import.meta.url));
const children: ChildProcess[] = [];
process.once("exit", () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
});
function spawn(name: string): ChildProcess {
  // execArgv is inherited: the TypeScript loader, and --cpu-prof to profile every process of the run.
  const c = fork(child(name), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  children.push(c);
  c.once("exit", (code, signal) => {
    if (code !== 0 && signal === null && !exiting) {
      console.error(`bench:webhooks: ${name} exited with ${code}`);
      process.exit(1);
    }
  });
  return c;
}
let exiting = false;

function next<T extends { type: string }>(c: ChildProcess, type: T["type"]): Promise<T> {
  return new Promise((resolve) => {
    const on = (message: T) => {
      if (message.type !== type) return;
      c.off("message", on);
      resolve(message);
    };
    c.on("message", on);
  });
}

// The receivers: one listening socket on this loopback address, handed to each.
const listener = createServer();
await new Promise<void>((resolve) => listener.listen(0, address, resolve));
const port = (listener.address() as { port: number }).port;
const receiverUrl = `http://${address}:${port}/hooks`;
const receivers = Array.from({ length: receiverCount }, () => spawn("webhooks-receiver"));
const arrivedBy = new Map<ChildProcess, { arrived: number; bad: number }>();
for (const r of receivers) {
  arrivedBy.set(r, { arrived: 0, bad: 0 });
  r.on("message", (m: ReceiverMessage) => {
    if (m.type === "progress") arrivedBy.set(r, { arrived: m.arrived, bad: m.bad });
  });
  const listening = next<ReceiverMessage>(r, "listening");
  r.send({ type: "listen", secret: SECRET } satisfies ReceiverCommand, listener);
  await listening;
}
listener.close();
const arrivedCount = () => [...arrivedBy.values()].reduce((n, a) => n + a.arrived + a.bad, 0);

/** Where events are written and how: one statement writes `n` verifications' events and their deliveries. */
interface Outbox {
  write(n: number, at: number): Promise<void>;
  analyze(): Promise<void>;
  /** the commit time of every event written, by id */
  written: Map<string, number>;
  close(): Promise<void>;
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

/** A typical event's data (an attempt.dialing's), so bodies and signatures cost what real ones do. */
const DATA = JSON.stringify({ channel: "flashcall", seq: 1, pattern: "+4416329*****" });
const ENDPOINT = `insert into webhook_endpoints (id, application_id, url, event_types, enabled, secret, created_at,
  updated_at) values ('whe_bench', 'app_default', '${receiverUrl}', '*', 1, '${SECRET}', 0, 0)`;

function sqliteOutbox(file: string): Outbox {
  const db = new Database(file);
  db.pragma("busy_timeout = 5000");
  db.exec(ENDPOINT);
  // As on PostgreSQL: statistics taken while the outbox was empty.
  db.exec("analyze");
  const event = db.prepare(
    `insert into events (id, verification_id, application_id, type, data, created_at)
     values (?, ?, 'app_default', 'attempt.dialing', ?, ?)`,
  );
  const delivery = db.prepare(
    `insert into webhook_deliveries (id, endpoint_id, event_seq, event_id, verification_id, status, attempts,
       next_attempt_at, claimed_until, created_at) values (?, 'whe_bench', ?, ?, ?, 'pending', 0, ?, 0, ?)`,
  );
  const written = new Map<string, number>();
  const insert = db.transaction((rows: { id: string; verification: string }[], at: number) => {
    for (const r of rows) {
      const seq = event.run(r.id, r.verification, DATA, at).lastInsertRowid;
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
    async close() {
      db.close();
    },
  };
}

async function postgresOutbox(schema: string): Promise<Outbox> {
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
           select id, v, 'app_default', 'attempt.dialing', $4, $3 from unnest($1::text[], $2::text[]) as r(id, v)
           returning seq, id, verification_id)
         insert into webhook_deliveries (id, endpoint_id, event_seq, event_id, verification_id, status, attempts,
           next_attempt_at, claimed_until, created_at)
         select 'msg_' || id, 'whe_bench', seq, id, verification_id, 'pending', 0, $3, 0, $3 from e`,
        [rows.map((r) => r.id), rows.map((r) => r.verification), at, DATA],
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
  /** the rate events were written at (below --rate when the writer fell behind on a loaded machine) */
  offeredPerSecond: number | null;
  seconds: number;
  eventsPerSecond: number;
  lagP50Ms: number;
  lagP99Ms: number;
  /** CPU per 1,000 events delivered, ms: the nodes, the receivers, PostgreSQL's backends of the nodes, the writer */
  cpuNodes: number;
  cpuReceivers: number;
  cpuPostgres: number | null;
  cpuWriter: number;
  /** deliveries that arrived with a signature the receiver could not verify (must be 0) */
  badSignatures: number;
  /** events that arrived more than once (at least once delivery; 0 expected without faults) */
  duplicates: number;
}

/** CPU seconds so far of the PostgreSQL backends serving the nodes, by pid. */
async function postgresCpu(admin: pg.Client): Promise<Map<number, number>> {
  const { rows } = await admin.query<{ pid: number }>("select pid from pg_stat_activity where application_name = $1", [
    NODE_APPLICATION_NAME,
  ]);
  const out = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      out.set(pid, sampleCpu(pid).cpuSeconds);
    } catch {
      // a backend that ended between the query and the read (or a server on another host: no figure)
    }
  }
  return out;
}

async function run(
  store: string,
  runName: string,
  nodes: ChildProcess[],
  outbox: Outbox,
  writing: (kick: () => void) => Promise<void>,
  admin?: pg.Client,
): Promise<Result> {
  for (const r of receivers) {
    r.send({ type: "reset" } satisfies ReceiverCommand);
    arrivedBy.set(r, { arrived: 0, bad: 0 });
  }
  const pgBefore = admin ? await postgresCpu(admin) : undefined;
  const startedAt = Date.now();
  const writerCpu = process.cpuUsage();
  for (const n of nodes) n.send({ type: "start" } satisfies NodeCommand);
  const steady = runName === "steady";
  await writing(() => {
    for (const n of nodes) n.send({ type: "kick" } satisfies NodeCommand);
  });
  const writtenBy = Date.now();
  const deadline = Date.now() + 600_000;
  while (Date.now() < deadline && arrivedCount() < outbox.written.size) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const writerUsed = process.cpuUsage(writerCpu);
  const pgAfter = admin ? await postgresCpu(admin) : undefined;
  const stopped = await Promise.all(
    nodes.map((n) => {
      const done = next<NodeMessage & { type: "stopped" }>(n, "stopped");
      n.send({ type: "stop" } satisfies NodeCommand);
      return done;
    }),
  );
  for (const s of stopped) for (const e of s.errors) console.error(`bench:webhooks: a node's worker: ${e}`);
  const reports = await Promise.all(
    receivers.map((r) => {
      const done = next<ReceiverMessage & { type: "report" }>(r, "report");
      r.send({ type: "report" } satisfies ReceiverCommand);
      return done;
    }),
  );
  const arrivals = new Map<string, number>();
  let duplicates = 0;
  for (const report of reports) {
    duplicates += report.duplicates;
    report.ids.forEach((id, i) => {
      const at = report.times[i] as number;
      const known = arrivals.get(id);
      if (known !== undefined) duplicates += 1;
      if (known === undefined || at < known) arrivals.set(id, at);
    });
  }
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
  const per1000 = (ms: number) => Math.round((ms / lags.length) * 1000);
  let pgSeconds: number | null = null;
  if (pgBefore && pgAfter && pgAfter.size > 0) {
    pgSeconds = 0;
    for (const [pid, after] of pgAfter) pgSeconds += after - (pgBefore.get(pid) ?? 0);
  }
  const result: Result = {
    store,
    run: runName,
    events: lags.length,
    offeredPerSecond: steady ? Math.round(outbox.written.size / ((writtenBy - startedAt) / 1000)) : null,
    seconds: Math.round(elapsed * 10) / 10,
    eventsPerSecond: Math.round(lags.length / elapsed),
    lagP50Ms: p.p50,
    lagP99Ms: p.p99,
    cpuNodes: per1000(stopped.reduce((ms, s) => ms + s.cpuMs, 0)),
    cpuReceivers: per1000(reports.reduce((ms, r) => ms + r.cpuMs, 0)),
    cpuPostgres: pgSeconds === null ? null : per1000(pgSeconds * 1000),
    cpuWriter: per1000((writerUsed.user + writerUsed.system) / 1000),
    badSignatures: reports.reduce((n, r) => n + r.bad, 0),
    duplicates,
  };
  results.push(result);
  // Each run's figures as soon as it ends (a long run stopped early still tells what it measured).
  console.log(JSON.stringify(result));
  return result;
}

/** Writes `rate` events/s in 50 ms slices for `seconds`, kicking the nodes as the server's commits do. */
function steadyWriter(outbox: Outbox): (kick: () => void) => Promise<void> {
  return async (kick) => {
    const perSlice = Math.max(1, Math.round(rate / 20 / EVENTS_PER_VERIFICATION));
    const started = performance.now();
    for (let slice = 0; performance.now() - started < seconds * 1000; slice++) {
      await outbox.write(perSlice, Date.now());
      kick();
      const nextSlice = started + (slice + 1) * 50;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, nextSlice - performance.now())));
    }
  };
}

async function writeBacklog(outbox: Outbox): Promise<void> {
  for (let left = backlog / EVENTS_PER_VERIFICATION; left > 0; left -= 1000) {
    await outbox.write(Math.min(1000, left), Date.now());
  }
}

const RUNS = ["steady", "backlog, stale statistics", "backlog, fresh statistics"] as const;
const results: Result[] = [];

async function openNodes(count: number, open: NodeCommand): Promise<ChildProcess[]> {
  const nodes = Array.from({ length: count }, () => spawn("webhooks-node"));
  await Promise.all(
    nodes.map((n) => {
      const opened = next<NodeMessage>(n, "opened");
      n.send(open);
      return opened;
    }),
  );
  return nodes;
}

async function closeNodes(nodes: ChildProcess[]): Promise<void> {
  await Promise.all(
    nodes.map(
      (n) =>
        new Promise((resolve) => {
          n.once("exit", resolve);
          n.disconnect();
        }),
    ),
  );
}

async function runSqlite(): Promise<void> {
  for (const runName of RUNS) {
    const dir = mkdtempSync(join(tmpdir(), "flashverify-bench-webhooks-"));
    const file = join(dir, "bench.sqlite");
    const migrating = openSqliteStore(file);
    await migrating.migrate();
    await migrating.close();
    const outbox = sqliteOutbox(file);
    if (runName !== "steady") await writeBacklog(outbox);
    if (runName === "backlog, fresh statistics") await outbox.analyze();
    const nodes = await openNodes(1, { type: "open", store: "sqlite", file, maxInFlight: inFlight });
    await run("sqlite, 1 node", runName, nodes, outbox, runName === "steady" ? steadyWriter(outbox) : async () => {});
    await closeNodes(nodes);
    await outbox.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runPostgres(): Promise<void> {
  const nodeUrl = new URL(postgresUrl);
  nodeUrl.searchParams.set("application_name", NODE_APPLICATION_NAME);
  for (const runName of RUNS) {
    const schema = `fv_bench_webhooks_${process.pid}_${results.length}`;
    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    try {
      const migrating = openPostgresStore(postgresUrl, { schema });
      await migrating.migrate();
      await migrating.close();
      const outbox = await postgresOutbox(schema);
      if (runName !== "steady") await writeBacklog(outbox);
      if (runName === "backlog, fresh statistics") await outbox.analyze();
      const nodes = await openNodes(nodeCount, {
        type: "open",
        store: "postgres",
        url: nodeUrl.href,
        schema,
        maxInFlight: inFlight,
      });
      const writing = runName === "steady" ? steadyWriter(outbox) : async () => {};
      await run(`postgres, ${nodeCount} nodes`, runName, nodes, outbox, writing, admin);
      await closeNodes(nodes);
      await outbox.close();
    } finally {
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    }
  }
}

const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(" ");
console.log(
  `bench:webhooks --rate ${rate} --seconds ${seconds} --backlog ${backlog} --nodes ${nodeCount}` +
    ` --receivers ${receiverCount} (load average ${load()})`,
);
if (only !== "postgres") await runSqlite();
if (only !== "sqlite") await runPostgres();
console.table(results);
console.log(`load average at the end: ${load()}`);
exiting = true;
for (const r of receivers) r.send({ type: "exit" } satisfies ReceiverCommand);
const failed = results.some((r) => r.badSignatures > 0);
if (failed) console.error("bench:webhooks: some deliveries failed their signature check");
process.exitCode = failed ? 1 : 0;
