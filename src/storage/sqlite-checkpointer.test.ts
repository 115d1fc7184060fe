/**
 * The WAL of a file database is checkpointed by the checkpointer's thread: commits land in the WAL, and the
 * database file grows without the store's own connection ever checkpointing (its threshold is far away).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, expect, it } from "vitest";
import { verification } from "../../test/conformance/store.js";
import { openSqliteStore } from "./sqlite.js";

const dir = mkdtempSync(join(tmpdir(), "flashverify-checkpointer-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("moves committed pages from the WAL into the database file from its own thread", async () => {
  const file = join(dir, "db.sqlite");
  const store = openSqliteStore(file);
  await store.migrate();
  // Whatever the migrations left in the WAL is checkpointed first.
  await waitFor(() => walFrames(store) === 0);
  const before = statSync(file).size;
  const many = Array.from({ length: 300 }, (_, i) =>
    store.createVerification({
      verification: verification(`ver_${i}`, { metadata: { pad: "x".repeat(400) } }),
      events: [],
    }),
  );
  await Promise.all(many);
  await waitFor(() => statSync(file).size > before && walFrames(store) === 0);
  expect(statSync(file).size).toBeGreaterThan(before);
  await store.close();
});

/** Frames in the WAL not yet checkpointed, as the store's connection sees them (a PASSIVE check of nothing). */
function walFrames(store: ReturnType<typeof openSqliteStore>): number {
  const [row] = store.db.pragma("wal_checkpoint(NOOP)") as { log: number; checkpointed: number }[];
  return row ? row.log - row.checkpointed : 0;
}

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await sleep(50);
}

it("lets a process that only opened and closed a file store exit cleanly", () => {
  // The thread is unreferenced while it runs, so a finished command never waits on it; closing the store must still
  // wait for it, or such a process ends with the close unsettled (exit code 13 from the top-level await).
  const script = `
    const { openSqliteStore } = await import(${JSON.stringify(new URL("./sqlite.ts", import.meta.url).href)});
    const store = openSqliteStore(${JSON.stringify(join(dir, "exit.sqlite"))});
    await store.migrate();
    await store.close();
    console.log("closed");
  `;
  // A file, not `-e`: `--input-type=module` would pass to the checkpointer's own eval'd (CommonJS) thread. The child
  // runs the TypeScript sources as the crash tests' servers do.
  const file = join(dir, "open-close.mjs");
  writeFileSync(file, script);
  const register = new URL("../../test/support/ts-register.mjs", import.meta.url).href;
  const run = spawnSync(process.execPath, ["--import", register, file], { encoding: "utf8", timeout: 30_000 });
  expect(run.stderr).toBe("");
  expect(run.stdout.trim()).toBe("closed");
  expect(run.status).toBe(0);
});
