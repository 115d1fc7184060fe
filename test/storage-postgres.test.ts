/**
 * The store conformance suite, unchanged, against PostgreSQL: the same promises the SQLite stores keep; and what
 * only a shared database can show: stores of several processes claim disjoint work. Skipped with a notice where no
 * PostgreSQL answers, unless CI requires it (FLASHVERIFY_REQUIRE_PEERS=postgres).
 */
import type pg from "pg";
import { describe, expect, it } from "vitest";
import { openPostgresStore } from "../src/storage/postgres.js";
import { isStoreUnreachable } from "../src/storage/unreachable.js";
import { runReviewNumberStoreConformance } from "./conformance/review-number-store.js";
import { runSinchStoreConformance } from "./conformance/sinch-store.js";
import { runStoreConformance, verification } from "./conformance/store.js";
import {
  openTestPostgresStore,
  POSTGRES_URL,
  postgresAvailable,
  postgresQuery,
  testSchema,
} from "./support/postgres.js";

const available = postgresAvailable();
describe.skipIf(!available)("PostgreSQL", () => {
  runStoreConformance("postgres", openTestPostgresStore);
  runSinchStoreConformance("postgres", openTestPostgresStore);
  runReviewNumberStoreConformance("postgres", openTestPostgresStore);

  it("migrates while other schemas of the database are created and dropped", async () => {
    // The conformance suite's migrations used to fail now and then with `schema "fv_test_..." does not exist`: the
    // migrator's table lookup read every schema of the database and resolved each by name, and other suites drop
    // theirs at any moment. Stores share a database with whatever else lives there.
    const store = await openTestPostgresStore();
    const churn = new (await import("pg")).default.Client({ connectionString: POSTGRES_URL });
    await churn.connect();
    let stop = false;
    let churned = 0;
    const dropping = (async () => {
      for (; !stop; churned++) {
        const name = `fv_test_churn_${process.pid}_${churned}`;
        await churn.query(`create schema ${name}; create table ${name}.t (id serial primary key, a text, b text)`);
        await churn.query(`drop schema ${name} cascade`);
      }
    })();
    try {
      await store.migrate();
      for (let i = 0; i < 25; i++) await store.migrate();
      expect(churned).toBeGreaterThan(10);
    } finally {
      stop = true;
      await dropping;
      await churn.end();
      await store.close();
    }
  }, 60_000);

  it("writes the creates of one turn together, and a write that fails fails alone", async () => {
    const store = await openTestPostgresStore();
    try {
      await store.migrate();
      const create = (id: string) =>
        store.createVerification({ verification: verification(id), events: [], wakeAt: null });
      expect(await create("ver_dup")).toBe("created");
      // Issued in one turn: one statement, in which the duplicate id breaks the batch; the others still land.
      const results = await Promise.allSettled([create("ver_a"), create("ver_dup"), create("ver_b")]);
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
      expect((await store.getVerification("ver_a"))?.id).toBe("ver_a");
      expect((await store.getVerification("ver_b"))?.id).toBe("ver_b");
    } finally {
      await store.close();
    }
  });

  it("outlives the loss of an idle connection and serves the next query on a new one", async () => {
    const schema = await testSchema();
    const lost: Error[] = [];
    const url = new URL(POSTGRES_URL);
    url.searchParams.set("application_name", schema.name);
    const store = openPostgresStore(url.toString(), {
      schema: schema.name,
      maxConnections: 1,
      onConnectionError: (error) => lost.push(error),
    });
    try {
      await store.migrate();
      // The pool's only connection is idle now; the server ends it, as a restart or a failover would.
      await postgresQuery(
        `select pg_terminate_backend(pid) from pg_stat_activity where application_name = '${schema.name}'`,
      );
      await expect.poll(() => lost.length).toBe(1);
      expect(await store.getVerification("ver_none")).toBeUndefined();
    } finally {
      await store.close();
      await schema.drop();
    }
  });

  it("outlives the loss of a checked-out connection (issue 24) and reports it as unreachable", async () => {
    const schema = await testSchema();
    const lost: Error[] = [];
    const url = new URL(POSTGRES_URL);
    url.searchParams.set("application_name", schema.name);
    const store = openPostgresStore(url.toString(), {
      schema: schema.name,
      maxConnections: 2,
      onConnectionError: (error) => lost.push(error),
    });
    try {
      await store.migrate();
      // A connection checked out between two statements of a transaction, as Kysely holds one, when the server ends
      // it (a restart): the client emits 'error' where the pool does not listen, which used to end the process.
      const pool = (store as unknown as { pool: pg.Pool }).pool;
      const client = await pool.connect();
      await postgresQuery(
        `select pg_terminate_backend(pid) from pg_stat_activity where application_name = '${schema.name}'`,
      );
      try {
        // The pool's other connection, idle, is ended too: each is reported once.
        await expect.poll(() => lost.length).toBeGreaterThanOrEqual(1);
        expect(lost.every(isStoreUnreachable)).toBe(true);
        const error = await client.query("select 1").then(
          () => null,
          (e: unknown) => e,
        );
        expect(isStoreUnreachable(error)).toBe(true);
      } finally {
        client.release(true);
      }
      expect(await store.getVerification("ver_none")).toBeUndefined();
    } finally {
      await store.close();
      await schema.drop();
    }
  });

  it("lets four nodes claim due timers at once without ever handing one to two of them", async () => {
    const schema = await testSchema();
    const nodes = Array.from({ length: 4 }, () =>
      openPostgresStore(POSTGRES_URL, { schema: schema.name, maxConnections: 4 }),
    );
    try {
      await nodes[0]?.migrate();
      await postgresQuery(
        `insert into ${schema.name}.timers (verification_id, due_at, claimed_until)
         select 'ver_' || g, g, 0 from generate_series(1, 2000) g`,
      );
      const claimed: string[][] = nodes.map(() => []);
      // Every node claims batches as fast as it can until nothing is left.
      await Promise.all(
        nodes.map(async (node, i) => {
          for (;;) {
            const ids = await node.claimTimers(10_000, Date.now() + 60_000, 50);
            if (ids.length === 0) return;
            claimed[i]?.push(...ids);
          }
        }),
      );
      const all = claimed.flat();
      expect(all).toHaveLength(2000);
      expect(new Set(all).size).toBe(2000);
      // The work was shared, not taken by whichever node came first.
      expect(claimed.filter((ids) => ids.length > 0).length).toBeGreaterThan(1);
    } finally {
      await Promise.all(nodes.map((node) => node.close()));
      await schema.drop();
    }
  });

  it("lets four nodes claim deliveries at once: each once, each chain in order, none serialised (issue 24)", async () => {
    const schema = await testSchema();
    const nodes = Array.from({ length: 4 }, () =>
      openPostgresStore(POSTGRES_URL, { schema: schema.name, maxConnections: 4 }),
    );
    const s = schema.name;
    try {
      await nodes[0]?.migrate();
      // 500 verifications with 4 events each to one endpoint: chains of 4 that must leave in order.
      await postgresQuery(`
        insert into ${s}.webhook_endpoints (id, application_id, url, event_types, enabled, secret, created_at, updated_at)
          values ('whe_1', 'app_default', 'http://127.0.0.110/', '*', 1, 'whsec_x', 0, 0);
        insert into ${s}.events (id, verification_id, application_id, type, data, created_at)
          select 'evt_' || v || '_' || k, 'ver_' || v, 'app_default', 'verification.started', '{}', v
          from generate_series(1, 500) v, generate_series(1, 4) k order by k, v;
        insert into ${s}.webhook_deliveries (id, endpoint_id, event_seq, event_id, verification_id, status, attempts,
            next_attempt_at, claimed_until, created_at)
          select 'msg_' || e.id, 'whe_1', e.seq, e.id, e.verification_id, 'pending', 0, 0, 0, 0 from ${s}.events e;`);
      const sent: { node: number; verification: string; seq: number }[] = [];
      await Promise.all(
        nodes.map(async (node, i) => {
          for (let idle = 0; idle < 3; ) {
            const claimed = await node.webhooks.claimDeliveries(Date.now(), Date.now() + 60_000, 20);
            if (claimed.length === 0) {
              idle += 1;
              await new Promise((resolve) => setTimeout(resolve, 10));
              continue;
            }
            idle = 0;
            for (const c of claimed) sent.push({ node: i, verification: c.delivery.verificationId, seq: c.event.seq });
            await node.webhooks.completeDeliveries(
              claimed.map((c) => ({
                deliveryId: c.delivery.id,
                attempt: {
                  id: `att_${c.delivery.id}`,
                  deliveryId: c.delivery.id,
                  endpointId: "whe_1",
                  attemptedAt: Date.now(),
                  statusCode: 200,
                  latencyMs: 1,
                  error: null,
                },
                status: "delivered" as const,
                nextAttemptAt: Date.now(),
              })),
            );
          }
        }),
      );
      expect(sent).toHaveLength(2000);
      expect(new Set(sent.map((x) => x.seq)).size).toBe(2000);
      const byVerification = new Map<string, number[]>();
      for (const x of sent) byVerification.set(x.verification, [...(byVerification.get(x.verification) ?? []), x.seq]);
      for (const seqs of byVerification.values()) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(sent.map((x) => x.node)).size).toBeGreaterThan(1);
    } finally {
      await Promise.all(nodes.map((node) => node.close()));
      await schema.drop();
    }
  });

  it("remembers what a node wrote until another node's write makes it stale, and forgets it then", async () => {
    const schema = await testSchema();
    const node = () => openPostgresStore(POSTGRES_URL, { schema: schema.name, maxConnections: 2 });
    const a = node();
    const b = node();
    try {
      await a.migrate();
      const v = verification("ver_1");
      expect(await a.createVerification({ verification: v, events: [], wakeAt: null })).toBe("created");
      expect(a.lastWritten(v.id)).toBe(v);
      expect(b.lastWritten(v.id)).toBeUndefined();
      // The other node spends a check: only a save's version check can tell this node its memory is out of date.
      const theirs = { ...v, checksUsed: 1, version: 2 };
      expect(await b.saveVerification(theirs, 1, [], false)).toBe(true);
      expect(a.lastWritten(v.id)).toBe(v);
      expect(await a.saveVerification({ ...v, checksUsed: 1, version: 2 }, 1, [], false)).toBe(false);
      expect(a.lastWritten(v.id)).toBeUndefined();
      const mine = { ...theirs, checksUsed: 2, version: 3 };
      expect(await a.saveVerification(mine, 2, [], false)).toBe(true);
      expect(a.lastWritten(v.id)).toBe(mine);
      // An ended verification seldom changes again: it is not kept.
      const ended = { ...mine, status: "verified" as const, endedAt: mine.updatedAt + 1, version: 4 };
      expect(await a.saveVerification(ended, 3, [], true)).toBe(true);
      expect(a.lastWritten(v.id)).toBeUndefined();
    } finally {
      await Promise.all([a.close(), b.close()]);
      await schema.drop();
    }
  });
});
