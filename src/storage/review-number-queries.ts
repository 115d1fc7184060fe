/** The review numbers aggregate (ReviewNumberStore) in Kysely, for SQLite and PostgreSQL alike: read rarely, cached. */
import type { Kysely } from "kysely";
import type { ReviewNumberRecord, ReviewNumberStore } from "../core/review-numbers.js";
import type { Database, ReviewNumbersTable } from "./schema.js";

const toRecord = (r: ReviewNumbersTable): ReviewNumberRecord => ({
  id: r.id,
  applicationId: r.application_id,
  phone: r.phone,
  code: r.code,
  callerId: r.caller_id,
  label: r.label,
  createdAt: Number(r.created_at),
  createdBy: r.created_by,
  removedAt: r.removed_at === null ? null : Number(r.removed_at),
  removedBy: r.removed_by,
});

export class ReviewNumberQueries implements ReviewNumberStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insertReviewNumber(r: ReviewNumberRecord): Promise<"inserted" | "exists"> {
    // The partial unique index (one active number per application and phone) decides under concurrency.
    const result = await this.db
      .insertInto("review_numbers")
      .values({
        id: r.id,
        application_id: r.applicationId,
        phone: r.phone,
        code: r.code,
        caller_id: r.callerId,
        label: r.label,
        created_at: r.createdAt,
        created_by: r.createdBy,
        removed_at: null,
        removed_by: null,
      })
      .onConflict((oc) => oc.columns(["application_id", "phone"]).where("removed_at", "is", null).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0 ? "inserted" : "exists";
  }

  async listReviewNumbers(applicationId: string, includeRemoved: boolean): Promise<ReviewNumberRecord[]> {
    let query = this.db.selectFrom("review_numbers").selectAll().where("application_id", "=", applicationId);
    if (!includeRemoved) query = query.where("removed_at", "is", null);
    const rows = await query.orderBy("created_at").orderBy("id").execute();
    return rows.map(toRecord);
  }

  async removeReviewNumber(applicationId: string, id: string, by: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable("review_numbers")
      .set({ removed_at: now, removed_by: by })
      .where("application_id", "=", applicationId)
      .where("id", "=", id)
      .where("removed_at", "is", null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}
