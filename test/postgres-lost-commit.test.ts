/**
 * PostgreSQL commits a write and the connection drops before its answer arrives: the store must report the write
 * that happened as done (a create as created, a save as saved, each once), and a write that truly conflicts as the
 * conflict it is; through the whole server, a start whose create was lost answers 201 and calls once, and a right
 * check whose save was lost answers verified. A TCP proxy between the store and PostgreSQL loses the answer after
 * PostgreSQL committed. Skipped with a notice where no PostgreSQL answers, unless CI requires it
 * (FLASHVERIFY_REQUIRE_PEERS=postgres).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DomainEvent, EventType, Verification } from "../src/core/types.js";
import { openPostgresStore } from "../src/storage/postgres.js";
import type { PostgresStore } from "../src/storage/postgres-store.js";
import { verification } from "./conformance/store.js";
import { POSTGRES_URL, postgresAvailable, postgresQuery, testSchema } from "./support/postgres.js";
import { type ReplyDropper, startReplyDropper } from "./support/postgres-reply-dropper.js";
import { auth, createTestApp, eventually } from "./support/test-app.js";

const BATCH = "flashverify_write_batch";
const LONE_CREATE = "flashverify_create_verification";
const LONE_SAVE = "flashverify_save_verification";

const event = (v: Verification, type: EventType, at = v.updatedAt): DomainEvent => ({
  type,
  verificationId: v.id,
  attemptId: null,
  at,
  data: {},
});

const available = postgresAvailable();
describe.skipIf(!available)("PostgreSQL, when the answer to a committed write is lost", () => {
  let schema: Awaited<ReturnType<typeof testSchema>>;
  let proxy: ReplyDropper;
  beforeEach(async () => {
    schema = await testSchema();
    proxy = await startReplyDropper(POSTGRES_URL);
  });
  afterEach(async () => {
    await proxy?.close();
    await schema?.drop();
  });

  describe("the store", () => {
    let store: PostgresStore;
    beforeEach(async () => {
      store = openPostgresStore(proxy.url, { schema: schema.name, maxConnections: 4 });
      await store.migrate();
    });
    afterEach(() => store?.close());

    const eventTypes = async (id: string) =>
      (
        await postgresQuery(`select type from ${schema.name}.events where verification_id = '${id}' order by seq`)
      ).rows.map((r) => r.type);
    const create = (v: Verification, extra: { lease?: boolean; idempotencyKey?: string } = {}) =>
      store.createVerification({
        verification: v,
        lease: extra.lease
          ? { poolId: "pool_a", cliKey: v.attempts[0]?.cliKey ?? "", verificationId: v.id, expiresAt: v.expiresAt }
          : undefined,
        events: [event(v, "verification.started")],
        idempotency: extra.idempotencyKey
          ? {
              applicationId: v.applicationId,
              key: extra.idempotencyKey,
              requestHash: "h",
              verificationId: v.id,
              createdAt: 0,
            }
          : undefined,
        wakeAt: v.expiresAt,
      });
    /** `v` one version on, with `changes`. */
    const next = (v: Verification, changes: Partial<Verification>): Verification => ({
      ...v,
      ...changes,
      version: v.version + 1,
      updatedAt: v.updatedAt + 1000,
    });

    it("reports a create whose answer was lost as created, once", async () => {
      // A flash call with its CLI lease, one with an Idempotency-Key too, and one without either: written again, each
      // is refused differently (the CLI is taken, the key is used, the id exists), by the write that was lost.
      const leased = verification("ver_a");
      const keyed = verification("ver_b");
      const plain = verification("ver_c");
      const lost = proxy.dropReplyTo(BATCH);
      const outcomes = await Promise.all([
        create(leased, { lease: true }),
        create(keyed, { lease: true, idempotencyKey: "k1" }),
        create(plain),
      ]);
      await lost;
      expect(outcomes).toEqual(["created", "created", "created"]);
      for (const v of [leased, keyed, plain]) {
        expect(await store.getVerification(v.id)).toEqual(v);
        expect(await eventTypes(v.id)).toEqual(["verification.started"]);
      }
      expect((await store.findIdempotency("app_default", "k1"))?.verificationId).toBe("ver_b");

      // A create alone in its turn goes as its own statement, and its lost answer is recognised the same way.
      const alone = verification("ver_d");
      const lostAlone = proxy.dropReplyTo(LONE_CREATE);
      expect(await create(alone, { lease: true })).toBe("created");
      await lostAlone;
      expect(await store.getVerification("ver_d")).toEqual(alone);
      expect(await eventTypes("ver_d")).toEqual(["verification.started"]);
    });

    it("reports a save whose answer was lost as saved, with its events written once", async () => {
      const a = verification("ver_a");
      const b = verification("ver_b");
      expect(await Promise.all([create(a, { lease: true }), create(b, { lease: true })])).toEqual([
        "created",
        "created",
      ]);

      const ringing = next(a, {
        attempts: a.attempts.map((t) => ({ ...t, status: "ringing", ringingAt: a.updatedAt })),
      });
      const verified = next(b, { status: "verified", checksUsed: 1, endedAt: b.updatedAt + 1000 });
      const lost = proxy.dropReplyTo(BATCH);
      const saved = await Promise.all([
        store.saveVerification(ringing, a.version, [event(ringing, "attempt.ringing")], false),
        store.saveVerification(verified, b.version, [event(verified, "verification.verified")], true, null),
      ]);
      await lost;
      expect(saved).toEqual([true, true]);
      expect(await store.getVerification("ver_a")).toEqual(ringing);
      expect(await store.getVerification("ver_b")).toEqual(verified);
      expect(await eventTypes("ver_a")).toEqual(["verification.started", "attempt.ringing"]);
      expect(await eventTypes("ver_b")).toEqual(["verification.started", "verification.verified"]);

      // A save alone in its turn, the same.
      const ended = next(ringing, { status: "expired", endedAt: ringing.updatedAt + 1000 });
      const lostAlone = proxy.dropReplyTo(LONE_SAVE);
      expect(await store.saveVerification(ended, ringing.version, [event(ended, "verification.expired")], true)).toBe(
        true,
      );
      await lostAlone;
      expect(await store.getVerification("ver_a")).toEqual(ended);
      expect(await eventTypes("ver_a")).toEqual(["verification.started", "attempt.ringing", "verification.expired"]);
    });

    it("still refuses a write that truly conflicts when its answer was lost", async () => {
      const x = verification("ver_x");
      const d = verification("ver_d");
      expect(await Promise.all([create(x, { lease: true }), create(d)])).toEqual(["created", "created"]);
      // Another process moved ver_x on first: the save below starts from a version that is gone.
      const theirs = next(x, { checksUsed: 1 });
      expect(await store.saveVerification(theirs, x.version, [event(theirs, "attempt.ringing")], false)).toBe(true);

      const stale = next(x, { status: "verified", checksUsed: 1, endedAt: x.updatedAt + 1000 });
      // ver_y wants the CLI ver_x holds.
      const y = verification("ver_y", {
        attempts: x.attempts.map((t) => ({ ...t, id: "att_ver_y", verificationId: "ver_y" })),
      });
      const moved = next(d, { checksUsed: 1 });
      const lost = proxy.dropReplyTo(BATCH);
      const outcomes = await Promise.all([
        store.saveVerification(stale, x.version, [event(stale, "verification.verified")], true),
        create(y, { lease: true }),
        store.saveVerification(moved, d.version, [event(moved, "attempt.ringing")], false),
      ]);
      await lost;
      expect(outcomes).toEqual([false, "cli_taken", true]);
      expect(await store.getVerification("ver_x")).toEqual(theirs);
      expect(await eventTypes("ver_x")).toEqual(["verification.started", "attempt.ringing"]);
      expect(await store.getVerification("ver_y")).toBeUndefined();

      // A create with an id that exists, holding another verification: an error, as without a lost answer. It breaks
      // the statement it shares, whose other write still lands.
      const other = verification("ver_d", { phone: "+447400999999" });
      const z = verification("ver_z");
      const lostAgain = proxy.dropReplyTo(BATCH);
      const settled = await Promise.allSettled([create(other), create(z)]);
      await lostAgain;
      expect(settled.map((s) => s.status)).toEqual(["rejected", "fulfilled"]);
      expect(await store.getVerification("ver_d")).toEqual(moved);
      expect(await store.getVerification("ver_z")).toEqual(z);
      expect(await eventTypes("ver_z")).toEqual(["verification.started"]);
    });
  });

  it("through the whole server: a start whose create was lost calls once, a check whose save was lost verifies", async () => {
    const url = `${proxy.url}?options=${encodeURIComponent(`-c search_path=${schema.name}`)}`;
    const t = await createTestApp({ DATABASE_URL: url });
    try {
      const phone = "+447400170002";
      const lostCreate = proxy.dropReplyTo(LONE_CREATE);
      const start = await t.app.inject({
        method: "POST",
        url: "/v1/verifications",
        headers: auth(),
        payload: { phone },
      });
      await lostCreate;
      expect(start.statusCode).toBe(201);
      const { id } = start.json();
      const cli = await eventually(() => {
        const call = t.services.sandbox?.handsets.calls(phone)[0];
        return call?.result === "missed" ? call.from : undefined;
      });
      // The call's own saves are done before the check, so the check's is the next save alone.
      await eventually(async () => {
        const v = await t.services.store.getVerification(id);
        return v?.attempts.every((a) => a.status !== "dialing" && a.status !== "ringing") ? v : undefined;
      });

      const lostSave = proxy.dropReplyTo(LONE_SAVE);
      const checked = await t.app.inject({
        method: "POST",
        url: `/v1/verifications/${id}/check`,
        headers: auth(),
        payload: { caller_id: cli },
      });
      await lostSave;
      expect(checked.json()).toMatchObject({ status: "verified" });
      expect(t.services.sandbox?.handsets.calls(phone)).toHaveLength(1);
      const events = await t.app.inject({ method: "GET", url: `/v1/verifications/${id}/events`, headers: auth() });
      const types = (events.json().data as { type: string }[]).map((e) => e.type);
      expect(types.filter((type) => type === "verification.started")).toHaveLength(1);
      expect(types.filter((type) => type === "verification.verified")).toHaveLength(1);
    } finally {
      await t.close();
    }
  });
});
