/** The Sinch layer's reads and writes (see SinchStore) in Kysely, for SQLite and PostgreSQL alike. */
import type { Kysely } from "kysely";
import type { SinchCredentialRecord, SinchStore } from "../core/sinch-credentials.js";
import type { Database, SinchCredentialsTable } from "./schema.js";

const toRecord = (r: SinchCredentialsTable): SinchCredentialRecord => ({
  id: r.id,
  applicationId: r.application_id,
  applicationKey: r.application_key,
  secretSealed: r.secret_sealed,
  label: r.label,
  createdAt: Number(r.created_at),
  revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
});

export class SinchQueries implements SinchStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insertSinchCredential(record: SinchCredentialRecord): Promise<void> {
    await this.db
      .insertInto("sinch_credentials")
      .values({
        id: record.id,
        application_id: record.applicationId,
        application_key: record.applicationKey,
        secret_sealed: record.secretSealed,
        label: record.label,
        created_at: record.createdAt,
        revoked_at: record.revokedAt,
      })
      .execute();
  }

  async findSinchCredential(applicationKey: string): Promise<SinchCredentialRecord | undefined> {
    const row = await this.db
      .selectFrom("sinch_credentials")
      .selectAll()
      .where("application_key", "=", applicationKey)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    return row && toRecord(row);
  }

  async listSinchCredentials(applicationId: string): Promise<SinchCredentialRecord[]> {
    const rows = await this.db
      .selectFrom("sinch_credentials")
      .selectAll()
      .where("application_id", "=", applicationId)
      .where("revoked_at", "is", null)
      .orderBy("created_at", "desc")
      .orderBy("id", "desc")
      .execute();
    return rows.map(toRecord);
  }

  async revokeSinchCredential(applicationId: string, id: string, now: number): Promise<boolean> {
    const updated = await this.db
      .updateTable("sinch_credentials")
      .set({ revoked_at: now })
      .where("application_id", "=", applicationId)
      .where("id", "=", id)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    return Number(updated.numUpdatedRows) === 1;
  }

  async latestVerificationId(
    applicationId: string,
    by: { reference: string } | { phone: string },
  ): Promise<string | undefined> {
    let query = this.db.selectFrom("verifications").select("id").where("application_id", "=", applicationId);
    query = "reference" in by ? query.where("reference", "=", by.reference) : query.where("phone", "=", by.phone);
    const row = await query.orderBy("created_at", "desc").orderBy("id", "desc").limit(1).executeTakeFirst();
    return row?.id;
  }
}
