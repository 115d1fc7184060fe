/**
 * Retention and erasure (see src/core/retention.ts) on SQLite: each batch is one synchronous transaction on the main
 * connection, serialised with the writer's group commits by SQLite's write lock. Each redacted verification's version moves on,
 * so a change built on what a process read before (or remembered) fails its version check and is made again on the
 * redacted record, never writing the removed data back.
 */
import type Database from "better-sqlite3";
import { type RetentionScope, type RetentionStore, redactedEventData } from "../core/retention.js";

/** @param forget drops the store's memory of these verifications (it would still hold their personal data) */
export function sqliteRetention(db: Database.Database, forget: (ids: readonly string[]) => void): RetentionStore {
  const s = {
    ofApplication: db.prepare(
      `select id, phone from verifications where application_id = @application_id and redacted_at is null
         and ended_at is not null and ended_at < @before limit @limit`,
    ),
    ofOthers: db.prepare(
      `select id, phone from verifications where redacted_at is null and ended_at is not null and ended_at < @before
         and application_id not in (select value from json_each(@except)) limit @limit`,
    ),
    one: db.prepare("select id, phone from verifications where id = @id and application_id = @application_id"),
    redact: db.prepare(
      `update verifications set phone = '', email = null, client = null, redacted_at = @at, redaction = @reason,
         erased_by = @by, version = version + 1,
         reference = case when @reason = 'erasure' then null else reference end,
         metadata = case when @reason = 'erasure' then null else metadata end
       where id = @id`,
    ),
    attempts: db.prepare("update attempts set detail = null where verification_id = @id and detail is not null"),
    events: db.prepare("select id, data from events where verification_id = @id"),
    event: db.prepare("update events set data = @data where id = @id"),
    lastCli: db.prepare("delete from phone_last_cli where phone = @phone"),
  };
  type Row = { id: string; phone: string };
  const redact = db.transaction((rows: Row[], at: number, reason: "retention" | "erasure", by: string | null) => {
    for (const { id, phone } of rows) {
      s.redact.run({ id, at, reason, by });
      s.attempts.run({ id });
      for (const e of s.events.all({ id }) as { id: string; data: string }[]) {
        const data = redactedEventData(e.data);
        if (data !== null) s.event.run({ id: e.id, data });
      }
      if (phone !== "") s.lastCli.run({ phone });
    }
  });
  return {
    async redactEnded(scope: RetentionScope, endedBefore: number, limit: number, at: number): Promise<number> {
      const rows = (
        "applicationId" in scope
          ? s.ofApplication.all({ application_id: scope.applicationId, before: endedBefore, limit })
          : s.ofOthers.all({ except: JSON.stringify(scope.exceptApplicationIds), before: endedBefore, limit })
      ) as Row[];
      redact(rows, at, "retention", null);
      forget(rows.map((r) => r.id));
      return rows.length;
    },
    async eraseVerification(applicationId: string, id: string, at: number, by: string): Promise<boolean> {
      const row = s.one.get({ id, application_id: applicationId }) as Row | undefined;
      if (!row) return false;
      redact([row], at, "erasure", by);
      forget([id]);
      return true;
    },
  };
}
