/**
 * Two server processes on one PostgreSQL database, each with its own store: what one remembers writing (its
 * `lastWritten` guesses) goes out of date when the other writes, and the service must never answer from it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CodeHasher } from "../src/core/codes.js";
import { PoolRegistry } from "../src/core/pool-registry.js";
import type { Store } from "../src/core/ports.js";
import { type Access, VerificationService } from "../src/core/verification-service.js";
import { openPostgresStore } from "../src/storage/postgres.js";
import { POSTGRES_URL, postgresAvailable, testSchema } from "./support/postgres.js";
import { FakeClock, ScriptedChannel } from "./support/scripted-channel.js";

const APP = "app_test";
const app: Access = { kind: "application", applicationId: APP };

describe.skipIf(!postgresAvailable())("two processes on one PostgreSQL database", () => {
  let schema: Awaited<ReturnType<typeof testSchema>>;
  let ours: Store;
  let theirs: Store;
  const clock = new FakeClock();
  const channel = new ScriptedChannel();

  beforeAll(async () => {
    schema = await testSchema();
    ours = openPostgresStore(POSTGRES_URL, { schema: schema.name, maxConnections: 2 });
    theirs = openPostgresStore(POSTGRES_URL, { schema: schema.name, maxConnections: 2 });
    await ours.migrate();
    await ours.upsertPool({
      id: "pool_a",
      name: "a",
      numbers: ["+4420794xxxxx"],
      codeLength: 4,
      countries: ["*"],
      createdAt: 0,
    });
  });
  afterAll(async () => {
    await ours?.close();
    await theirs?.close();
    await schema?.drop();
  });

  const service = (store: Store, pools: PoolRegistry | null) =>
    new VerificationService({
      store,
      clock,
      hasher: new CodeHasher("s".repeat(32)),
      pools: pools ?? { poolsFor: () => [] },
      channels: { flashcall: pools ? channel : new ScriptedChannel() },
      settings: { flashcallTtlMs: 60_000, verificationTtlMs: 600_000, flashcallMaxChecks: 3, clientTokenGraceMs: 0 },
    });

  it("never answers from what this process wrote last when another process has written since", async () => {
    const pools = new PoolRegistry(ours);
    await pools.refresh();
    const mine = service(ours, pools);
    const other = service(theirs, null);
    const started = await mine.start(APP, { phone: "+447400123456" });
    if (!started.ok) throw new Error(started.error.code);
    const id = started.value.verification.id;
    const right = channel.last().message.cli.slice(-4);
    const wrong = right === "0000" ? "1111" : "0000";
    // This process remembers the verification as it wrote it; the other spends a check behind its back.
    expect(ours.lastWritten?.(id)?.checksUsed).toBe(0);
    expect((await other.check(id, app, { code: wrong })).ok).toBe(true);
    const read = await mine.get(id, app);
    expect(read.ok && read.value.checksUsed).toBe(1);
    const checked = await mine.check(id, app, { code: wrong });
    expect(checked.ok && checked.value.attemptsRemaining).toBe(1);
    // The other process ends it; a check here must see that, not the pending verification it saved.
    expect((await other.check(id, app, { code: right })).ok).toBe(true);
    expect(await mine.check(id, app, { code: right })).toEqual({ ok: false, error: { code: "ALREADY_VERIFIED" } });
    expect((await ours.getVerification(id))?.checksUsed).toBe(3);
  });
});
