/**
 * `npm run bench:dashboard`: what the operator's views cost on a busy day's data. It writes `--count` verifications
 * spread over 24 hours (a mix of verified flash calls, busy numbers that fell back to SMS, pending and failed ones,
 * three countries, two trunks) into a fresh SQLite file, or into a fresh schema of `--postgres <url>`, then times
 * `GET /v1/stats`'s report over the day (24 buckets) and the verification list's first page, the median of
 * `--repeat` runs each, in this process (no HTTP).
 *
 * Flags: --count 100000, --repeat 5, --postgres postgres://postgres@127.0.0.1:5432/test
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { OperatorStats } from "../src/core/operator-stats.js";
import { NumberPool } from "../src/core/pool.js";
import type { Attempt, Verification } from "../src/core/types.js";
import { listVerifications } from "../src/core/verification-list.js";
import { openPostgresStore } from "../src/storage/postgres.js";
import { openSqliteStore } from "../src/storage/sqlite.js";
import { flagValue } from "./args.js";
import { median } from "./stats.js";

const flag = flagValue;
const count = Number(flag("count", "100000"));
const repeat = Number(flag("repeat", "5"));
const postgresUrl = flag("postgres", "");

const DAY = 24 * 3600_000;
const to = Date.UTC(2026, 10, 22);
const from = to - DAY;

const dir = mkdtempSync(join(tmpdir(), "flashverify-bench-dashboard-"));
const schema = `fv_bench_${process.pid}`;
async function sql(text: string) {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  await client.query(text).finally(() => client.end());
}
if (postgresUrl) await sql(`create schema ${schema}`);
const store = postgresUrl
  ? openPostgresStore(postgresUrl, { schema, maxConnections: 8 })
  : openSqliteStore(join(dir, "bench.sqlite"));
await store.migrate();

function attempt(v: Verification, seq: number, channel: Attempt["channel"], failed: boolean): Attempt {
  return {
    id: `att_${v.id.slice(4)}${seq}`,
    verificationId: v.id,
    seq,
    channel,
    status: failed ? "failed" : "delivered",
    reason: failed ? "busy" : channel === "flashcall" ? "ringing_canceled" : "delivered",
    sipCode: channel === "flashcall" ? (failed ? 486 : 487) : null,
    poolId: channel === "flashcall" ? "pool_default" : null,
    cliKey: channel === "flashcall" ? `cli_${v.id}` : null,
    cliPrefix: channel === "flashcall" ? "+44207941" : null,
    codeLength: channel === "flashcall" ? 4 : 6,
    codeMac: "mac",
    createdAt: v.createdAt,
    dialedAt: v.createdAt,
    ringingAt: failed ? null : v.createdAt + 300,
    endedAt: v.createdAt + 1500,
    trunkId: channel === "flashcall" ? (seq % 2 === 0 ? "carrier_a" : "carrier_b") : null,
    invitedAt: v.createdAt,
    reasonHeader: null,
    expiresAt: v.createdAt + 60_000,
    detail: null,
    cost: channel === "flashcall" ? 0.0115 : 0.04,
  };
}

function verification(i: number): Verification {
  const createdAt = from + Math.floor((i / count) * DAY);
  const kind = i % 10; // 7 verified flash calls, 1 SMS fallback, 1 failed, 1 pending
  const status = kind === 8 ? "failed" : kind === 9 ? "pending" : "verified";
  const id = `ver_${String(i).padStart(26, "0")}`;
  const v: Verification = {
    id,
    applicationId: "app_default",
    phone: `+4474${String(i).padStart(8, "0")}`,
    country: ["GB", "DE", "BR"][i % 3] as string,
    status,
    reason: status === "failed" ? "attempt_failed" : null,
    reference: null,
    metadata: null,
    client: null,
    clientTokenHash: "hash",
    maxChecks: 3,
    checksUsed: 1,
    guessProbability: 0.0003,
    risk: { outcome: i % 50 === 0 ? "challenge" : "allow", score: 0.1, factors: [], reasons: [] },
    verifiedCallerId: null,
    createdAt,
    updatedAt: createdAt,
    expiresAt: createdAt + 600_000,
    endedAt: status === "pending" ? null : createdAt + 2000 + (i % 7) * 1000,
    version: 1,
    workflow: [{ channel: "flashcall", timeoutMs: 60_000 }],
    step: 0,
    stepDeadline: null,
    email: null,
    attempts: [],
  };
  v.attempts =
    kind === 7
      ? [attempt(v, 1, "flashcall", true), attempt(v, 2, "sms", false)]
      : [attempt(v, 1, "flashcall", kind === 8)];
  return v;
}

const seedStart = performance.now();
for (let i = 0; i < count; i += 1000) {
  await Promise.all(
    Array.from({ length: Math.min(1000, count - i) }, (_, j) => {
      const v = verification(i + j);
      const events = [
        { type: "verification.started" as const, verificationId: v.id, attemptId: null, at: v.createdAt, data: {} },
      ];
      return store.createVerification({ verification: v, events });
    }),
  );
}
const seedMs = performance.now() - seedStart;

const stats = new OperatorStats({
  store: store.operator,
  clock: { now: () => to },
  pools: () => [
    new NumberPool({
      id: "pool_default",
      name: "default",
      numbers: ["+4420794xxxxx"],
      codeLength: 4,
      countries: ["*"],
    }),
  ],
  endpoints: async () => [],
  flashcallMaxChecks: 3,
  maxGuessProbability: 0.001,
});

async function time(work: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    await work();
    samples.push(performance.now() - t0);
  }
  return median(samples);
}

const report = await stats.report("app_default", from, to, 24);
const reportMs = await time(() => stats.report("app_default", from, to, 24));
const listMs = await time(() => listVerifications(store.operator, { applicationId: "app_default", limit: 50 }));
const filteredMs = await time(() =>
  listVerifications(store.operator, { applicationId: "app_default", limit: 50, status: "failed", country: "BR" }),
);

// Where the report's time goes: each of its queries alone.
const range = { applicationId: "app_default", from, to };
const bucketMs = DAY / 24;
const queries: [string, () => Promise<unknown>][] = [
  ["verificationBuckets", () => store.operator.verificationBuckets(range, bucketMs)],
  ["verificationGroups", () => store.operator.verificationGroups(range)],
  ["attemptGroups", () => store.operator.attemptGroups(range)],
  ["attemptBuckets", () => store.operator.attemptBuckets(range, bucketMs)],
  ["timeToVerify", () => store.operator.timeToVerify(range, [0.5, 0.9])],
];
const perQuery: string[] = [];
for (const [name, run] of queries) perQuery.push(`${name} ${(await time(run)).toFixed(1)}`);

console.log(`npm run bench:dashboard -- ${process.argv.slice(2).join(" ")}`.trim());
console.log(
  `store: ${postgresUrl ? "PostgreSQL" : "SQLite (file)"}, ${count} verifications over 24 h (seeded in ${(seedMs / 1000).toFixed(1)} s)`,
);
console.log(`stats report, 24 buckets:            median ${reportMs.toFixed(1)} ms of ${repeat}`);
console.log(`  its queries alone (median ms):     ${perQuery.join(", ")}`);
console.log(`verification list, first page (50):  median ${listMs.toFixed(1)} ms`);
console.log(`  filtered (failed, BR):             median ${filteredMs.toFixed(1)} ms`);
console.log(
  `check: ${report.verifications.total} verifications, conversion ${report.verifications.conversionRate}, ` +
    `p50/p90 ${report.timeToVerifyMs.p50}/${report.timeToVerifyMs.p90} ms, cost ${report.cost.total} USD`,
);

await store.close();
if (postgresUrl) await sql(`drop schema ${schema} cascade`);
rmSync(dir, { recursive: true, force: true });
