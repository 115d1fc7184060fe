/**
 * Retention and erasure on the real stack, on SQLite and on PostgreSQL: the retention job removes the phone number,
 * email, client (IP, user agent, device) and provider texts of verifications that ended longer ago than their
 * application's retention period, from the verifications, their attempts and their events, and keeps what the
 * statistics need; `DELETE /v1/verifications/{id}` does it at once for one (canceling it if live), leaving a
 * tombstone that says when and which key asked. The database is then searched for the numbers directly.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Retention } from "../src/core/retention.js";
import { POSTGRES_URL, postgresAvailable, postgresQuery, testSchema } from "./support/postgres.js";
import { auth, createTestApp, eventually, TEST_KEY, type TestApp } from "./support/test-app.js";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read field by field and asserted, not trusted
type Json = Record<string, any>;

const DAY_MS = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), "flashverify-retention-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Backend {
  name: string;
  open(): Promise<{
    env: Record<string, string>;
    rowsMentioning(text: string): Promise<string[]>;
    drop(): Promise<void>;
  }>;
  available: boolean;
}

const TABLES = ["verifications", "attempts", "events", "phone_last_cli"];

const backends: Backend[] = [
  {
    name: "SQLite",
    available: true,
    async open() {
      const file = join(dir, `retention-${Date.now()}.db`);
      return {
        env: { DATABASE_URL: `sqlite:${file}` },
        async rowsMentioning(text) {
          const db = new Database(file, { readonly: true });
          try {
            return TABLES.flatMap((table) =>
              (db.prepare(`select * from ${table}`).all() as Json[])
                .filter((row) => JSON.stringify(row).includes(text))
                .map(() => table),
            );
          } finally {
            db.close();
          }
        },
        drop: async () => {},
      };
    },
  },
  {
    name: "PostgreSQL",
    available: postgresAvailable(),
    async open() {
      const schema = await testSchema();
      return {
        env: { DATABASE_URL: `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema.name}`)}` },
        async rowsMentioning(text) {
          const found: string[] = [];
          for (const table of TABLES) {
            const rows = await postgresQuery(`select * from ${schema.name}.${table}`);
            for (const row of rows.rows) if (JSON.stringify(row).includes(text)) found.push(table);
          }
          return found;
        },
        drop: () => schema.drop(),
      };
    },
  },
];

for (const backend of backends) {
  describe.skipIf(!backend.available)(`retention and erasure on ${backend.name}`, () => {
    let t: TestApp;
    let db: Awaited<ReturnType<Backend["open"]>>;
    const request = async (method: "GET" | "POST" | "DELETE", url: string, payload?: Json, token = TEST_KEY) => {
      const res = await t.app.inject({ method, url, headers: auth(token), ...(payload ? { payload } : {}) });
      return { status: res.statusCode, body: res.json() as Json };
    };
    const client = { ip: "198.51.100.23", user_agent: "Retention-Test/1.0", device_id: "dev-retention-1" };

    beforeAll(async () => {
      db = await backend.open();
      t = await createTestApp({
        ...db.env,
        SANDBOX_SIP_ADDRESS: "127.0.0.127",
        RETENTION_DAYS: "30",
        RETENTION_APPLICATIONS: '{"app_keeps_longer": 90}',
      });
    });
    afterAll(async () => {
      await t?.close();
      await db?.drop();
    });

    /** The job as it runs `days` from now, over this server's store and verifications. */
    const runRetentionIn = (days: number) =>
      new Retention({
        store: t.services.store.retentionStore(),
        clock: { now: () => Date.now() + days * DAY_MS },
        days: { default: 30, applications: { app_keeps_longer: 90 } },
        verifications: t.services.verifications,
      }).runOnce();

    it("removes personal data once the retention period has passed, keeping what the statistics need", {
      timeout: 60_000,
    }, async () => {
      // A flash call verified with its caller ID, an email code delivered then canceled, and one still pending.
      const flashPhone = "+447400190001";
      const flash = await request("POST", "/v1/verifications", { phone: flashPhone, client, reference: "user-1" });
      const cli = await eventually(() => {
        const call = t.services.sandbox?.handsets.calls(flashPhone)[0];
        return call?.result === "missed" ? call.from : undefined;
      }, 15_000);
      expect((await request("POST", `/v1/verifications/${flash.body.id}/check`, { caller_id: cli })).body.status).toBe(
        "verified",
      );
      const mailPhone = "+445600190002";
      const email = "retained@example.com";
      const mail = await request("POST", "/v1/verifications", {
        phone: mailPhone,
        email,
        client,
        workflow: [{ channel: "email" }],
      });
      expect(mail.status, JSON.stringify(mail.body)).toBe(201);
      await eventually(async () => {
        const v = await request("GET", `/v1/verifications/${mail.body.id}`);
        return v.body.attempts[0]?.status === "delivered" ? true : undefined;
      }, 15_000);
      await request("POST", `/v1/verifications/${mail.body.id}/cancel`);
      const livePhone = "+447400190003";
      const live = await request("POST", "/v1/verifications", { phone: livePhone, client });
      // Its call ends (a missed call) while it stays pending, so the statistics hold still from here.
      await eventually(async () => {
        const v = await request("GET", `/v1/verifications/${live.body.id}`);
        return v.body.attempts[0]?.ended_at ? true : undefined;
      }, 15_000);
      const before = (await request("GET", "/v1/stats")).body;

      // Within the period nothing changes.
      expect(await runRetentionIn(0)).toBe(0);
      expect(await runRetentionIn(29)).toBe(0);
      expect(await db.rowsMentioning(flashPhone)).not.toEqual([]);

      expect(await runRetentionIn(31)).toBe(2);
      const redacted = (await request("GET", `/v1/verifications/${flash.body.id}`)).body;
      expect(redacted).toMatchObject({
        status: "verified",
        country: "GB",
        phone: null,
        client: null,
        reference: "user-1",
        redaction: { reason: "retention", by: null },
      });
      expect(redacted.attempts[0]).toMatchObject({ channel: "flashcall", status: "delivered", cost: 0.0115 });
      const mailed = (await request("GET", `/v1/verifications/${mail.body.id}`)).body;
      expect(mailed).toMatchObject({ status: "canceled", phone: null, client: null });
      expect(mailed.attempts[0]).toMatchObject({ channel: "email", status: "delivered", detail: null });
      const started = (await request("GET", `/v1/verifications/${flash.body.id}/events`)).body.data[0];
      expect(started).toMatchObject({ type: "verification.started", data: { country: "GB" } });
      expect(started.data.phone).toBeUndefined();

      // Nothing of theirs is left in the database: not the numbers, the address, the IP or the user agent...
      for (const personal of [flashPhone, mailPhone, email]) expect(await db.rowsMentioning(personal)).toEqual([]);
      // ...except on the live verification, whose time has not come.
      expect(await db.rowsMentioning(livePhone)).not.toEqual([]);
      expect((await request("GET", `/v1/verifications/${live.body.id}`)).body).toMatchObject({
        phone: livePhone,
        client,
        redaction: null,
      });

      // The statistics read the same: statuses, channels, outcomes and costs were kept.
      const after = (await request("GET", "/v1/stats")).body;
      expect(after.verifications).toEqual(before.verifications);
      expect(after.cost).toEqual(before.cost);
      expect(after.by_channel).toEqual(before.by_channel);

      // A second pass finds nothing more to do.
      expect(await runRetentionIn(31)).toBe(0);
    });

    it("erases one verification on request, canceling it when live, and leaves an auditable tombstone", {
      timeout: 60_000,
    }, async () => {
      const phone = "+447400190004";
      const client = { ip: "198.51.100.44", user_agent: "Erasure-Test/4.0", device_id: "dev-erasure-4" };
      const started = await request("POST", "/v1/verifications", {
        phone,
        client,
        reference: "user-4",
        metadata: { plan: "pro" },
      });
      // Its client token cannot erase it, and another application cannot see it.
      const byClient = await request(
        "DELETE",
        `/v1/verifications/${started.body.id}`,
        undefined,
        started.body.client_token,
      );
      expect(byClient.status).toBe(403);
      const other = await t.services.apiKeys.create("app_other", "other");
      expect((await request("DELETE", `/v1/verifications/${started.body.id}`, undefined, other)).status).toBe(404);
      expect((await request("DELETE", "/v1/verifications/ver_unknown")).body.error.code).toBe("VERIFICATION_NOT_FOUND");

      const erased = await request("DELETE", `/v1/verifications/${started.body.id}`);
      expect(erased.status, JSON.stringify(erased.body)).toBe(200);
      const keys = (await request("GET", "/v1/api-keys")).body.data as Json[];
      expect(erased.body).toMatchObject({
        id: started.body.id,
        status: "canceled",
        phone: null,
        client: null,
        reference: null,
        metadata: null,
        redaction: { reason: "erasure" },
      });
      // Who asked: one of the application's keys, by id.
      expect(keys.map((k) => k.id)).toContain(erased.body.redaction.by);
      expect(Date.parse(erased.body.redaction.at)).toBeLessThanOrEqual(Date.now());
      // The tombstone stays readable, and the call it had placed ends without bringing the number back.
      await eventually(async () => {
        const v = await request("GET", `/v1/verifications/${started.body.id}`);
        return v.body.attempts[0]?.ended_at ? v : undefined;
      }, 15_000);
      const tombstone = (await request("GET", `/v1/verifications/${started.body.id}`)).body;
      expect(tombstone).toMatchObject({ phone: null, redaction: { reason: "erasure", by: erased.body.redaction.by } });
      expect(await db.rowsMentioning(phone)).toEqual([]);
      expect(await db.rowsMentioning("user-4")).toEqual([]);
      for (const personal of Object.values(client)) expect(await db.rowsMentioning(personal)).toEqual([]);
    });
  });
}
