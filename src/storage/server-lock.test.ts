import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { leaseDatabaseForServer } from "./server-lock.js";

const dir = mkdtempSync(join(tmpdir(), "flashverify-lease-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it("refuses a second server on one database while the first renews its lease, even in the same process (two containers are both pid 1)", async () => {
  const url = `sqlite:${join(dir, "one.db")}`;
  const first = await leaseDatabaseForServer(url, { ttlMs: 300 });
  // Longer than the lease: only renewals keep it.
  await expect(leaseDatabaseForServer(url, { ttlMs: 300, waitMs: 900 })).rejects.toThrow(
    /another flashverify server \(.+, pid \d+\) holds .*one\.db's lease/,
  );
  first.release();
  const second = await leaseDatabaseForServer(url, { ttlMs: 300, waitMs: 0 });
  expect(second.holder).not.toBe(first.holder);
  second.release();
});

it("takes over the lease of a server that died without releasing it, once the lease lapses", async () => {
  const url = `sqlite:${join(dir, "crashed.db")}`;
  const register = new URL("../../test/support/ts-register.mjs", import.meta.url).pathname;
  const script = `
    import { leaseDatabaseForServer } from ${JSON.stringify(new URL("./server-lock.ts", import.meta.url).pathname)};
    await leaseDatabaseForServer(${JSON.stringify(url)}, { ttlMs: 1000 });
    console.log("held");
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ["--import", register, "--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("held") && resolve());
    child.once("exit", (code) => reject(new Error(`the lease holder exited early (${code})`)));
  });
  await expect(leaseDatabaseForServer(url, { ttlMs: 1000, waitMs: 0 })).rejects.toThrow(/another flashverify server/);
  child.kill("SIGKILL");
  await new Promise((resolve) => child.once("exit", resolve));
  const started = Date.now();
  const lease = await leaseDatabaseForServer(url, { ttlMs: 1000, waitMs: 3000 });
  // It waited for the dead holder's lease to lapse: no more than one lease length and a poll.
  expect(Date.now() - started).toBeLessThan(2000);
  lease.release();
});

it("tells the holder that lost its lease while stalled past the expiry", async () => {
  const url = `sqlite:${join(dir, "stalled.db")}`;
  let clock = 1_000_000;
  const lost: string[] = [];
  const stalled = await leaseDatabaseForServer(url, { ttlMs: 60, now: () => clock, onLost: (h) => lost.push(h) });
  clock += 1000; // the holder's renewals did not run for longer than the lease
  const taker = await leaseDatabaseForServer(url, { ttlMs: 60_000, waitMs: 0, now: () => clock });
  await sleep(100);
  expect(lost).toEqual([taker.holder]);
  stalled.release();
  taker.release();
});

it("creates the database's folder when it does not exist yet (a fresh machine); in-memory databases need no lease", async () => {
  const db = join(dir, "not-yet", "deeper", "flashverify.db");
  const lease = await leaseDatabaseForServer(`sqlite:${db}`);
  expect(existsSync(db)).toBe(true);
  lease.release();
  expect((await leaseDatabaseForServer("sqlite::memory:")).holder).toBe("");
  expect((await leaseDatabaseForServer("postgres://127.0.0.1/test")).holder).toBe("");
});
