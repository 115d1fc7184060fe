/**
 * The `Store` port over Kysely. The queries are dialect-neutral (SQLite and PostgreSQL); what differs between the
 * two is only how the Kysely instance is built (see sqlite.ts).
 */
import { type Kysely, Migrator, sql } from "kysely";
import type { ApiKeyRecord, CliLease, IdempotencyRecord, Store, StoredEvent, StoredPool } from "../core/ports.js";
import type { DomainEvent, Verification } from "../core/types.js";
import { migrationProvider } from "./migrations/index.js";
import {
  attemptRow,
  eventRows,
  toAttempt,
  toIdempotencyRecord,
  toStoredEvent,
  toVerification,
  verificationRow,
} from "./rows.js";
import type { Database } from "./schema.js";

type Tx = Kysely<Database>;

class CliTaken extends Error {}

export class KyselyStore implements Store {
  constructor(private readonly db: Kysely<Database>) {}

  async migrate(): Promise<void> {
    const { error, results } = await new Migrator({ db: this.db, provider: migrationProvider }).migrateToLatest();
    const failed = results?.find((r) => r.status === "Error");
    if (error || failed) {
      throw new Error(`migration ${failed?.migrationName ?? ""} failed: ${String(error)}`, { cause: error });
    }
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async ensureApplication(app: { id: string; name: string; createdAt: number }): Promise<void> {
    await this.db
      .insertInto("applications")
      .values({ id: app.id, name: app.name, created_at: app.createdAt })
      .onConflict((oc) => oc.column("id").doNothing())
      .execute();
  }

  async insertApiKey(key: ApiKeyRecord): Promise<void> {
    await this.db
      .insertInto("api_keys")
      .values({
        id: key.id,
        application_id: key.applicationId,
        key_hash: key.keyHash,
        label: key.label,
        created_at: key.createdAt,
      })
      .onConflict((oc) => oc.column("key_hash").doNothing())
      .execute();
  }

  async findApiKey(keyHash: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.db.selectFrom("api_keys").selectAll().where("key_hash", "=", keyHash).executeTakeFirst();
    if (!row) return undefined;
    return {
      id: row.id,
      applicationId: row.application_id,
      keyHash: row.key_hash,
      label: row.label,
      createdAt: Number(row.created_at),
    };
  }

  async upsertPool(pool: StoredPool): Promise<void> {
    const values = {
      id: pool.id,
      name: pool.name,
      numbers: JSON.stringify(pool.numbers),
      code_length: pool.codeLength,
      countries: JSON.stringify(pool.countries),
      created_at: pool.createdAt,
    };
    await this.db
      .insertInto("pools")
      .values(values)
      .onConflict((oc) =>
        oc.column("id").doUpdateSet({
          name: values.name,
          numbers: values.numbers,
          code_length: values.code_length,
          countries: values.countries,
        }),
      )
      .execute();
  }

  async listPools(): Promise<StoredPool[]> {
    const rows = await this.db.selectFrom("pools").selectAll().orderBy("created_at").orderBy("id").execute();
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      numbers: JSON.parse(r.numbers) as string[],
      codeLength: r.code_length,
      countries: JSON.parse(r.countries) as string[],
      createdAt: Number(r.created_at),
    }));
  }

  async getOrCreateSetting(name: string, value: string): Promise<string> {
    await this.db
      .insertInto("settings")
      .values({ name, value })
      .onConflict((oc) => oc.column("name").doNothing())
      .execute();
    const row = await this.db.selectFrom("settings").select("value").where("name", "=", name).executeTakeFirstOrThrow();
    return row.value;
  }

  async createVerification(input: {
    verification: Verification;
    lease: CliLease;
    phoneLastCliKey: string;
    events: DomainEvent[];
    idempotency?: IdempotencyRecord | undefined;
  }): Promise<"created" | "cli_taken" | "idempotency_taken"> {
    const { verification: v, lease, idempotency } = input;
    return this.db
      .transaction()
      .execute(async (tx) => {
        if (idempotency) {
          const claimed = await tx
            .insertInto("idempotency_keys")
            .values({
              application_id: idempotency.applicationId,
              key: idempotency.key,
              request_hash: idempotency.requestHash,
              verification_id: idempotency.verificationId,
              created_at: idempotency.createdAt,
            })
            .onConflict((oc) => oc.columns(["application_id", "key"]).doNothing())
            .executeTakeFirst();
          if (Number(claimed.numInsertedOrUpdatedRows ?? 0) === 0) return "idempotency_taken";
        }
        // Take the lease if it is free or stale; a live lease on this CLI means another draw is needed.
        const taken = await tx
          .insertInto("cli_leases")
          .values({
            pool_id: lease.poolId,
            cli_key: lease.cliKey,
            verification_id: lease.verificationId,
            expires_at: lease.expiresAt,
          })
          .onConflict((oc) =>
            oc
              .column("cli_key")
              .doUpdateSet({
                pool_id: lease.poolId,
                verification_id: lease.verificationId,
                expires_at: lease.expiresAt,
              })
              .where("cli_leases.expires_at", "<", v.createdAt),
          )
          .executeTakeFirst();
        // Throwing rolls back the idempotency claim made above in this transaction.
        if (Number(taken.numInsertedOrUpdatedRows ?? 0) === 0) throw new CliTaken();

        await tx.insertInto("verifications").values(verificationRow(v)).execute();
        for (const a of v.attempts) await tx.insertInto("attempts").values(attemptRow(a)).execute();
        await tx
          .insertInto("phone_last_cli")
          .values({ phone: v.phone, cli_key: input.phoneLastCliKey })
          .onConflict((oc) => oc.column("phone").doUpdateSet({ cli_key: input.phoneLastCliKey }))
          .execute();
        await insertEvents(tx, input.events);
        return "created" as const;
      })
      .catch((error: unknown) => {
        if (error instanceof CliTaken) return "cli_taken" as const;
        throw error;
      });
  }

  async findIdempotency(applicationId: string, key: string): Promise<IdempotencyRecord | undefined> {
    const row = await this.db
      .selectFrom("idempotency_keys")
      .selectAll()
      .where("application_id", "=", applicationId)
      .where("key", "=", key)
      .executeTakeFirst();
    return row && toIdempotencyRecord(row);
  }

  async getVerification(id: string): Promise<Verification | undefined> {
    const row = await this.db.selectFrom("verifications").selectAll().where("id", "=", id).executeTakeFirst();
    if (!row) return undefined;
    const attempts = await this.db
      .selectFrom("attempts")
      .selectAll()
      .where("verification_id", "=", id)
      .orderBy("seq")
      .execute();
    return toVerification(row, attempts.map(toAttempt));
  }

  async saveVerification(
    v: Verification,
    expectedVersion: number,
    events: DomainEvent[],
    releaseLeases: boolean,
  ): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const { id: _id, ...changes } = verificationRow(v);
      const updated = await tx
        .updateTable("verifications")
        .set(changes)
        .where("id", "=", v.id)
        .where("version", "=", expectedVersion)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1) return false;
      for (const a of v.attempts) {
        const { id: _attemptId, ...attemptChanges } = attemptRow(a);
        await tx
          .insertInto("attempts")
          .values(attemptRow(a))
          .onConflict((oc) => oc.column("id").doUpdateSet(attemptChanges))
          .execute();
      }
      if (releaseLeases) await tx.deleteFrom("cli_leases").where("verification_id", "=", v.id).execute();
      await insertEvents(tx, events);
      return true;
    });
  }

  async liveLeaseKeys(poolId: string, now: number): Promise<Set<string>> {
    const rows = await this.db
      .selectFrom("cli_leases")
      .select("cli_key")
      .where("pool_id", "=", poolId)
      .where("expires_at", ">=", now)
      .execute();
    return new Set(rows.map((r) => r.cli_key));
  }

  async lastCliKey(phone: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom("phone_last_cli")
      .select("cli_key")
      .where("phone", "=", phone)
      .executeTakeFirst();
    return row?.cli_key;
  }

  async listWithLiveAttempts(limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom("attempts")
      .select("verification_id")
      .distinct()
      .where("status", "in", ["dialing", "ringing"])
      .orderBy("verification_id")
      .limit(limit)
      .execute();
    return rows.map((r) => r.verification_id);
  }

  async listExpired(now: number, limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom("verifications")
      .select("id")
      .where("status", "=", "pending")
      .where("expires_at", "<=", now)
      .orderBy("expires_at")
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  }

  async listEvents(verificationId: string): Promise<StoredEvent[]> {
    const rows = await this.db
      .selectFrom("events")
      .selectAll()
      .where("verification_id", "=", verificationId)
      .orderBy("seq")
      .execute();
    return rows.map(toStoredEvent);
  }
}

async function insertEvents(tx: Tx, events: DomainEvent[]): Promise<void> {
  if (events.length === 0) return;
  await tx.insertInto("events").values(eventRows(events)).execute();
}
