/**
 * SIGTERM mid-traffic on a real server process: readiness says it is draining while it still serves, every request
 * it took is answered, its SSE streams (a verification's, the application's feed) end, calls still ringing past the grace are hung up (the handsets see the
 * CANCEL), every outcome is written, nothing stays claimed, and it exits 0. The database it leaves is then read
 * directly: no attempt recorded in flight, no timer or delivery claimed, no caller ID leased to a verification
 * that ended.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { afterAll, expect, it } from "vitest";
import { VirtualHandsets } from "../src/sandbox/handsets.js";
import { spawnServer } from "./support/server-process.js";
import { TEST_FRAUD_SETTINGS } from "./support/test-app.js";

const dir = mkdtempSync(join(tmpdir(), "flashverify-shutdown-"));
const KEY = "fv_shutdown_test_key_0123456789";
const headers = { authorization: `Bearer ${KEY}`, "content-type": "application/json" };
const children: ChildProcess[] = [];
let handsets: VirtualHandsets | undefined;
afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  await handsets?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Ring time, grace and drain: calls placed in the last 2 s before the shutdown are still ringing past the grace. */
const RING_MS = 3000;
const GRACE_MS = 1000;
const DRAIN_MS = 1500;

it("drains, answers what it took, hangs up what still rings, writes every outcome and exits 0", async () => {
  handsets = await VirtualHandsets.create({ address: "127.0.3.1", port: 0 });
  const databaseFile = join(dir, "flashverify.db");
  const server = await spawnServer({
    ...TEST_FRAUD_SETTINGS,
    DATABASE_URL: `sqlite:${databaseFile}`,
    FLASHVERIFY_API_KEY: KEY,
    SANDBOX: "off",
    SIP_TRUNK_HOST: handsets.local.address,
    SIP_TRUNK_PORT: String(handsets.local.port),
    SIP_LOCAL_ADDRESS: "127.0.3.2",
    POOL_NUMBERS: "+4420794xxxxx",
    SIP_RING_TIME_MS: String(RING_MS),
    SHUTDOWN_GRACE_MS: String(GRACE_MS),
    SHUTDOWN_DRAIN_MS: String(DRAIN_MS),
    OVERLOAD_MAX_LAG_MS: "0",
  });
  children.push(server.child);
  const exit = new Promise<number | null>((resolve) => server.child.once("exit", (code) => resolve(code)));
  const url = server.url;
  const start = async (phone: string) => {
    const res = await fetch(`${url}/v1/verifications`, { method: "POST", headers, body: JSON.stringify({ phone }) });
    return { status: res.status, body: (await res.json()) as { id?: string } };
  };

  // A live status stream, open across the shutdown.
  const watched = await start("+447400600000");
  expect(watched.status).toBe(201);
  const stream = await fetch(`${url}/v1/verifications/${watched.body.id}/stream`, { headers });
  expect(stream.status).toBe(200);
  // And the application's live feed (the dashboard's).
  const feed = await fetch(`${url}/v1/events/stream`, { headers });
  expect(feed.status).toBe(200);
  const ended = (response: Response) =>
    (async () => {
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      for (;;) if ((await reader.read()).done) return true;
    })();
  const streamEnded = ended(stream);
  const feedEnded = ended(feed);

  // Traffic: eight clients starting verifications back to back, as a load balancer would send them, until
  // readiness says this node is draining.
  let sending = true;
  let next = 1;
  const outcomes: (number | string)[] = [];
  const client = async () => {
    while (sending) {
      const phone = `+4474006${String(next++).padStart(5, "0")}`;
      // The handsets fail these suffixes on purpose (busy, not found, silent, answered).
      if (["0486", "0404", "0408", "0200"].includes(phone.slice(-4))) continue;
      outcomes.push(
        await start(phone).then(
          (r) => r.status,
          (error: Error) => `${error.cause ?? error.message}`,
        ),
      );
    }
  };
  const clients = Array.from({ length: 8 }, client);
  await sleep(1500);
  expect(outcomes.length).toBeGreaterThan(8);

  server.child.kill("SIGTERM");
  const drainingSeen = Date.now();
  let ready = await fetch(`${url}/readyz`);
  for (let i = 0; i < 100 && ready.status === 200; i++) {
    await sleep(10);
    ready = await fetch(`${url}/readyz`);
  }
  expect(ready.status).toBe(503);
  expect(((await ready.json()) as { error: { code: string } }).error.code).toBe("SHUTTING_DOWN");
  expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: "draining" });
  // Still serving while it drains: the load balancer has not noticed yet.
  expect((await start("+447400699999")).status).toBe(201);
  expect(Date.now() - drainingSeen).toBeLessThan(DRAIN_MS);
  sending = false;
  await Promise.all(clients);

  // Every request it took was answered: no reset connection, no error status.
  expect(outcomes.filter((o) => o !== 201)).toEqual([]);
  expect(await streamEnded).toBe(true);
  expect(await feedEnded).toBe(true);
  const code = await Promise.race([exit, sleep(20_000).then(() => "still running")]);
  expect(code).toBe(0);

  const db = new Database(databaseFile, { readonly: true });
  try {
    const count = (query: string) => (db.prepare(query).get() as { n: number }).n;
    const started = outcomes.length + 2;
    expect(count("select count(*) as n from verifications")).toBe(started);
    expect(count("select count(*) as n from attempts")).toBe(started);
    // No call left recorded in flight: each one rang out, or was hung up and its outcome written.
    expect(count("select count(*) as n from attempts where status in ('dialing', 'ringing')")).toBe(0);
    expect(count("select count(*) as n from attempts where status = 'delivered'")).toBe(started);
    // Calls placed shortly before the shutdown were cut short by the grace, not left to ring their 3 s.
    const cut = count(`select count(*) as n from attempts where ended_at - ringing_at < ${RING_MS - 200}`);
    expect(cut).toBeGreaterThan(0);
    // Nothing is left claimed for another node to wait out.
    expect(count(`select count(*) as n from timers where claimed_until > ${Date.now()}`)).toBe(0);
    expect(count(`select count(*) as n from webhook_deliveries where claimed_until > ${Date.now()}`)).toBe(0);
    // Leases are held by pending verifications only (their caller ID is still the code being waited for).
    expect(
      count(`select count(*) as n from cli_leases l join verifications v on v.id = l.verification_id
             where v.status <> 'pending' and l.expires_at >= ${Date.now()}`),
    ).toBe(0);
    // The verifications themselves stay pending and checkable: the timers of any node settle them.
    expect(count("select count(*) as n from verifications where status = 'pending'")).toBe(started);
  } finally {
    db.close();
  }
  // The handsets saw every call end: none is left ringing on their side either.
  const results = new Set<string>();
  for (let i = 0; i <= next; i++) {
    for (const call of handsets.calls(`+4474006${String(i).padStart(5, "0")}`)) results.add(call.result);
  }
  expect([...results]).toEqual(["missed"]);
}, 60_000);
