/**
 * Retention and erasure (see src/core/retention.ts) over Kysely, for PostgreSQL: each batch is one transaction, its
 * verifications locked (`FOR UPDATE SKIP LOCKED`, so several nodes running the job share the work). Each redacted
 * verification's version moves on, so a change another node built on what it read before fails its version check
 * and is made again on the redacted record, never writing the removed data back.
 */
import { type Kysely, sql } from "kysely";
import { type RetentionScope, type RetentionStore, redactedEventData } from "../core/retention.js";
import type { Database } from "./schema.js";

/** @param forget drops the store's memory of these verifications (it would still hold their personal data) */
export function kyselyRetention(db: Kysely<Database>, forget: (ids: readonly string[]) => void): RetentionStore {
  const redact = async (
    select: (trx: Kysely<Database>) => Promise<{ id: string; phone: string }[]>,
    at: number,
    reason: "retention" | "erasure",
    by: string | null,
  ) => {
    const rows = await db.transaction().execute(async (trx) => {
      const rows = await select(trx);
      if (rows.length === 0) return rows;
      const ids = rows.map((r) => r.id);
      await trx
        .updateTable("verifications")
        .set((eb) => ({
          phone: "",
          email: null,
          client: null,
          redacted_at: at,
          redaction: reason,
          erased_by: by,
          version: eb("version", "+", 1),
          ...(reason === "erasure" ? { reference: null, metadata: null } : {}),
        }))
        .where("id", "in", ids)
        .execute();
      await trx
        .updateTable("attempts")
        .set({ detail: null })
        .where("verification_id", "in", ids)
        .where("detail", "is not", null)
        .execute();
      const events = await trx
        .selectFrom("events")
        .select(["id", "data"])
        .where("verification_id", "in", ids)
        .execute();
      for (const e of events) {
        const data = redactedEventData(e.data);
        if (data !== null) await trx.updateTable("events").set({ data }).where("id", "=", e.id).execute();
      }
      const phones = rows.map((r) => r.phone).filter((p) => p !== "");
      if (phones.length > 0) await trx.deleteFrom("phone_last_cli").where("phone", "in", phones).execute();
      return rows;
    });
    forget(rows.map((r) => r.id));
    return rows.length;
  };
  return {
    redactEnded(scope: RetentionScope, endedBefore: number, limit: number, at: number): Promise<number> {
      return redact(
        (trx) => {
          let query = trx
            .selectFrom("verifications")
            .select(["id", "phone"])
            .where("redacted_at", "is", null)
            .where("ended_at", "is not", null)
            .where("ended_at", "<", endedBefore);
          if ("applicationId" in scope) query = query.where("application_id", "=", scope.applicationId);
          else if (scope.exceptApplicationIds.length > 0) {
            query = query.where("application_id", "not in", [...scope.exceptApplicationIds]);
          }
          return query.limit(limit).modifyEnd(sql`for update skip locked`).execute();
        },
        at,
        "retention",
        null,
      );
    },
    async eraseVerification(applicationId: string, id: string, at: number, by: string): Promise<boolean> {
      const n = await redact(
        (trx) =>
          trx
            .selectFrom("verifications")
            .select(["id", "phone"])
            .where("id", "=", id)
            .where("application_id", "=", applicationId)
            .forUpdate()
            .execute(),
        at,
        "erasure",
        by,
      );
      return n === 1;
    },
  };
}
