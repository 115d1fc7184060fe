/**
 * The SQLite store answers reads of recently written verifications from memory and writes only the columns and
 * attempts a save changed. These tests read every step back through a second connection, which sees only what
 * reached the database.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, expect, it } from "vitest";
import { verification } from "../../test/conformance/store.js";
import type { Verification } from "../core/types.js";
import { openSqliteStore } from "./sqlite.js";
import { openDatabase } from "./sqlite-open.js";
import { SqliteStore } from "./sqlite-store.js";

const dir = mkdtempSync(join(tmpdir(), "flashverify-sqlite-store-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("writes what each save changed, and remembers exactly what it wrote", async () => {
  const file = join(dir, "db.sqlite");
  const store = openSqliteStore(file);
  await store.migrate();
  const fresh = async (id: string) => {
    const reader = openSqliteStore(file);
    await reader.migrate();
    try {
      return await reader.getVerification(id);
    } finally {
      await reader.close();
    }
  };
  const saveAndCompare = async (next: Verification, from: Verification) => {
    expect(await store.saveVerification(next, from.version, [], false)).toBe(true);
    expect(await store.getVerification(next.id)).toEqual(next);
    expect(await fresh(next.id)).toEqual(next);
  };

  const v1 = verification("ver_1");
  expect(await store.createVerification({ verification: v1, events: [] })).toBe("created");
  expect(await fresh(v1.id)).toEqual(v1);

  // Only changing columns, and one attempt's progress.
  const ringing = { ...v1.attempts[0]!, status: "ringing" as const, ringingAt: v1.createdAt + 40 };
  const v2 = { ...v1, version: 2, updatedAt: v1.createdAt + 40, attempts: [ringing] };
  await saveAndCompare(v2, v1);

  // A check: the verification changes, its attempt does not.
  const v3 = {
    ...v2,
    version: 3,
    status: "verified" as const,
    checksUsed: 1,
    verifiedCallerId: "+442079410000",
    endedAt: v1.createdAt + 90,
    attempts: [...v2.attempts],
  };
  await saveAndCompare(v3, v2);

  // A field outside the changing columns replaced, and an attempt added: the whole row and the new attempt.
  const added = { ...v1.attempts[0]!, id: "att_2", seq: 2, channel: "sms" as const, cliPrefix: null, cliKey: null };
  const v4 = { ...v3, version: 4, metadata: { plan: "team" }, step: 1, attempts: [...v3.attempts, added] };
  await saveAndCompare(v4, v3);

  // A stale version still loses, whatever is remembered.
  expect(await store.saveVerification({ ...v4, version: 5, checksUsed: 2 }, 3, [], false)).toBe(false);
  expect(await fresh(v1.id)).toEqual(v4);
  await store.close();
});

it("commits a group early when its turn runs long, so its first writes do not wait for the whole turn", async () => {
  const file = join(dir, "long-turn.sqlite");
  // When a group goes is the group commit's, whatever runs it; on this thread a group sent has also committed, so
  // a second connection can tell exactly when it went.
  const store = new SqliteStore(openDatabase(file), { writer: "inline" });
  await store.migrate();
  const reader = new Database(file, { readonly: true });
  const stored = () =>
    (reader.prepare("select count(*) as n from verifications where id like 'ver_early_%'").get() as { n: number }).n;
  const create = (id: string) => store.createVerification({ verification: verification(id), events: [] });

  // One turn: a write, 5 ms of other work, another write. The second finds the group open longer than a group may
  // wait, and both commit in a microtask instead of at the end of the turn.
  const first = create("ver_early_1");
  const busyUntil = performance.now() + 5;
  while (performance.now() < busyUntil) {}
  const second = create("ver_early_2");
  await Promise.resolve();
  expect(stored()).toBe(2);
  expect(await Promise.all([first, second])).toEqual(["created", "created"]);

  // A short turn commits once, at its end.
  const third = create("ver_early_3");
  const fourth = create("ver_early_4");
  await Promise.resolve();
  expect(stored()).toBe(2);
  expect(await Promise.all([third, fourth])).toEqual(["created", "created"]);
  expect(stored()).toBe(4);
  reader.close();
  await store.close();
});

it("drops what it remembers of a verification when a save of it is refused, so the next read is the row", async () => {
  const file = join(dir, "evict.sqlite");
  const store = openSqliteStore(file);
  await store.migrate();
  const v1 = verification("ver_evict");
  expect(await store.createVerification({ verification: v1, events: [] })).toBe("created");
  // Another connection moves the row on (the CLI or a restarted process writing the same file).
  const other = openSqliteStore(file);
  await other.migrate();
  const moved = { ...v1, version: 2, checksUsed: 1 };
  expect(await other.saveVerification(moved, 1, [], false)).toBe(true);
  await other.close();

  expect(await store.saveVerification({ ...v1, version: 2, checksUsed: 2 }, 1, [], false)).toBe(false);
  expect(await store.getVerification(v1.id)).toEqual(moved);
  const retried = { ...moved, version: 3, checksUsed: 2 };
  expect(await store.saveVerification(retried, 2, [], false)).toBe(true);
  expect(await store.getVerification(v1.id)).toEqual(retried);
  await store.close();
});

it("commits on its writer thread everything queued before close, then stops the thread; writes after close fail", async () => {
  const file = join(dir, "close.sqlite");
  const store = openSqliteStore(file);
  await store.migrate();
  const writes = Array.from({ length: 50 }, (_, i) =>
    store.createVerification({ verification: verification(`ver_close_${i}`), events: [] }),
  );
  await store.close();
  expect(await Promise.all(writes)).toEqual(writes.map(() => "created"));
  await expect(store.createVerification({ verification: verification("ver_late"), events: [] })).rejects.toThrow();
  const reader = new Database(file, { readonly: true });
  expect(reader.prepare("select count(*) as n from verifications").get()).toEqual({ n: 50 });
  reader.close();
});

it("remembers what it reads, so the save after a read writes only what changed, and remembers it exactly", async () => {
  const file = join(dir, "read-through.sqlite");
  const writer = openSqliteStore(file);
  await writer.migrate();
  const v1 = verification("ver_read_1");
  expect(await writer.createVerification({ verification: v1, events: [] })).toBe("created");
  await writer.close();

  const store = openSqliteStore(file);
  await store.migrate();
  const read = await store.getVerification(v1.id);
  expect(read).toEqual(v1);
  expect(await store.getVerification(v1.id)).toBe(read);
  const ringing = { ...read!.attempts[0]!, status: "ringing" as const, ringingAt: v1.createdAt + 40 };
  const v2 = { ...read!, version: 2, status: "verified" as const, attempts: [ringing] };
  expect(await store.saveVerification(v2, 1, [], false)).toBe(true);
  expect(await store.getVerification(v1.id)).toBe(v2);
  await store.close();
  const reader = openSqliteStore(file);
  await reader.migrate();
  expect(await reader.getVerification(v1.id)).toEqual(v2);
  await reader.close();
});

it("keeps a verification cached while it awaits its reverse flash call, however many writes come after it", async () => {
  const store = openSqliteStore(join(dir, "awaiting-call.sqlite"));
  await store.migrate();
  const reverse = (id: string) => {
    const v = verification(id);
    // As reverseAttempt opens it: `sent` while it waits for the call.
    const attempt = {
      ...v.attempts[0]!,
      channel: "reverse_flashcall" as const,
      status: "sent" as const,
      dial: "+442079460001",
    };
    return { ...v, attempts: [{ ...attempt, poolId: null, cliKey: null, cliPrefix: null }] };
  };
  const awaiting = reverse("ver_awaiting");
  const flash = verification("ver_flash");
  for (const v of [awaiting, flash])
    expect(await store.createVerification({ verification: v, events: [] })).toBe("created");
  for (let i = 0; i < 5000; i += 500) {
    const batch = Array.from({ length: 500 }, (_, j) =>
      verification(`ver_later_${i + j}`, { phone: `+4474001${i + j}` }),
    );
    await Promise.all(batch.map((v) => store.createVerification({ verification: v, events: [] })));
  }
  expect(await store.getVerification(awaiting.id)).toBe(awaiting);
  // Read again from the database: pushed out by the later writes.
  expect(await store.getVerification(flash.id)).not.toBe(flash);
  expect(await store.getVerification(flash.id)).toEqual(flash);

  // Once its call ended, it is cached as any other.
  const ended = { ...awaiting.attempts[0]!, status: "delivered" as const, endedAt: awaiting.createdAt + 5 };
  const verified = { ...awaiting, version: 2, status: "verified" as const, attempts: [ended] };
  expect(await store.saveVerification(verified, 1, [], true)).toBe(true);
  expect(await store.getVerification(awaiting.id)).toBe(verified);
  await store.close();
});
