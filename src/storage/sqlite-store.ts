/**
 * The default store: SQLite through better-sqlite3 directly, with every statement prepared once and every
 * transaction run synchronously. The schema and migrations are the shared Kysely ones (see KyselyStore, which
 * serves the same port over any Kysely dialect); this store exists because on the hot path Kysely's per-query
 * compilation and its async connection mutex cost several times what SQLite itself does.
 */
import type SqliteDatabase from "better-sqlite3";
import type { Statement } from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import type { ApiKeyRecord, CliLease, IdempotencyRecord, Store, StoredEvent, StoredPool } from "../core/ports.js";
import type { DomainEvent, Verification } from "../core/types.js";
import { KyselyStore } from "./kysely-store.js";
import {
  attemptRow,
  eventRows,
  toAttempt,
  toIdempotencyRecord,
  toStoredEvent,
  toVerification,
  verificationRow,
} from "./rows.js";
import type { AttemptsTable, Database, EventsTable, IdempotencyKeysTable, VerificationsTable } from "./schema.js";

const VERIFICATION_COLUMNS = [
  "id",
  "application_id",
  "phone",
  "country",
  "status",
  "reason",
  "reference",
  "metadata",
  "client",
  "client_token_hash",
  "max_checks",
  "checks_used",
  "guess_probability",
  "verified_caller_id",
  "created_at",
  "updated_at",
  "expires_at",
  "ended_at",
  "version",
] as const satisfies readonly (keyof VerificationsTable)[];

const ATTEMPT_COLUMNS = [
  "id",
  "verification_id",
  "seq",
  "channel",
  "status",
  "reason",
  "sip_code",
  "pool_id",
  "cli_key",
  "cli_prefix",
  "code_length",
  "code_mac",
  "created_at",
  "dialed_at",
  "ringing_at",
  "ended_at",
  "expires_at",
] as const satisfies readonly (keyof AttemptsTable)[];

const insertSql = (table: string, columns: readonly string[]) =>
  `insert into ${table} (${columns.join(", ")}) values (${columns.map((c) => `@${c}`).join(", ")})`;
const assignments = (columns: readonly string[]) =>
  columns
    .filter((c) => c !== "id")
    .map((c) => `${c} = @${c}`)
    .join(", ");

/** Why a write gave up; thrown inside it so that everything it wrote rolls back. */
class Abort extends Error {
  constructor(readonly outcome: "cli_taken" | "idempotency_taken" | "version_conflict") {
    super(outcome);
  }
}

interface PendingWrite {
  write: () => void;
  resolve: () => void;
  reject: (error: unknown) => void;
}

type Statements = ReturnType<typeof prepareStatements>;

/**
 * Writes are group-committed: the writes requested during one turn of the event loop run in one transaction, each
 * inside its own savepoint so that one write giving up (a taken CLI, a version conflict) rolls back only itself.
 * A commit costs far more than the statements of one write (WAL frames for every touched page), and a busy
 * server issues hundreds of writes per turn. Each write's promise resolves only after its batch has committed.
 */
export class SqliteStore implements Store {
  private readonly kysely: KyselyStore;
  private statements: Statements | undefined;
  private pending: PendingWrite[] = [];

  constructor(private readonly db: SqliteDatabase.Database) {
    // Kysely serves the migrations and the rarely used administrative queries over the same connection.
    this.kysely = new KyselyStore(new Kysely<Database>({ dialect: new SqliteDialect({ database: db }) }));
  }

  /** The prepared statements; they need the tables, so they exist only once `migrate()` has run. */
  private get s(): Statements {
    if (!this.statements) throw new Error("SqliteStore: call migrate() before using the store");
    return this.statements;
  }

  async migrate(): Promise<void> {
    await this.kysely.migrate();
    this.statements = prepareStatements(this.db);
  }

  async close(): Promise<void> {
    if (this.pending.length > 0) this.commitPending();
    await this.kysely.close();
  }

  async ping(): Promise<void> {
    this.db.prepare("select 1").get();
  }

  ensureApplication(app: { id: string; name: string; createdAt: number }): Promise<void> {
    return this.kysely.ensureApplication(app);
  }

  insertApiKey(key: ApiKeyRecord): Promise<void> {
    return this.kysely.insertApiKey(key);
  }

  findApiKey(keyHash: string): Promise<ApiKeyRecord | undefined> {
    return this.kysely.findApiKey(keyHash);
  }

  upsertPool(pool: StoredPool): Promise<void> {
    return this.kysely.upsertPool(pool);
  }

  listPools(): Promise<StoredPool[]> {
    return this.kysely.listPools();
  }

  getOrCreateSetting(name: string, value: string): Promise<string> {
    return this.kysely.getOrCreateSetting(name, value);
  }

  async createVerification(input: {
    verification: Verification;
    lease: CliLease;
    phoneLastCliKey: string;
    events: DomainEvent[];
    idempotency?: IdempotencyRecord | undefined;
  }): Promise<"created" | "cli_taken" | "idempotency_taken"> {
    const { verification: v, lease, idempotency } = input;
    const s = this.s;
    try {
      await this.write(() => {
        if (idempotency) {
          const claimed = s.claimIdempotency.run({
            application_id: idempotency.applicationId,
            key: idempotency.key,
            request_hash: idempotency.requestHash,
            verification_id: idempotency.verificationId,
            created_at: idempotency.createdAt,
          });
          if (claimed.changes === 0) throw new Abort("idempotency_taken");
        }
        const leased = s.takeLease.run({
          pool_id: lease.poolId,
          cli_key: lease.cliKey,
          verification_id: lease.verificationId,
          expires_at: lease.expiresAt,
          now: v.createdAt,
        });
        if (leased.changes === 0) throw new Abort("cli_taken");
        s.insertVerification.run(verificationRow(v));
        for (const a of v.attempts) s.insertAttempt.run(attemptRow(a));
        s.setLastCli.run({ phone: v.phone, cli_key: input.phoneLastCliKey });
        for (const e of eventRows(input.events)) s.insertEvent.run(e);
      });
      return "created";
    } catch (error) {
      if (error instanceof Abort && error.outcome !== "version_conflict") return error.outcome;
      throw error;
    }
  }

  async findIdempotency(applicationId: string, key: string): Promise<IdempotencyRecord | undefined> {
    const row = this.s.findIdempotency.get({ application_id: applicationId, key }) as IdempotencyKeysTable | undefined;
    return row && toIdempotencyRecord(row);
  }

  async getVerification(id: string): Promise<Verification | undefined> {
    const row = this.s.getVerification.get({ id }) as VerificationsTable | undefined;
    if (!row) return undefined;
    const attempts = this.s.getAttempts.all({ id }) as AttemptsTable[];
    return toVerification(row, attempts.map(toAttempt));
  }

  async saveVerification(
    v: Verification,
    expectedVersion: number,
    events: DomainEvent[],
    releaseLeases: boolean,
  ): Promise<boolean> {
    const s = this.s;
    try {
      await this.write(() => {
        const updated = s.updateVerification.run({ ...verificationRow(v), expected_version: expectedVersion });
        if (updated.changes !== 1) throw new Abort("version_conflict");
        for (const a of v.attempts) s.upsertAttempt.run(attemptRow(a));
        if (releaseLeases) s.releaseLeases.run({ id: v.id });
        for (const e of eventRows(events)) s.insertEvent.run(e);
      });
      return true;
    } catch (error) {
      if (error instanceof Abort) return false;
      throw error;
    }
  }

  /** Queues `write` for the next group commit; resolves once it has committed, rejects if it threw. */
  private write(write: () => void): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => this.commitPending());
      this.pending.push({ write, resolve, reject });
    });
  }

  private commitPending(): void {
    const batch = this.pending;
    this.pending = [];
    const s = this.s;
    const failures = new Map<PendingWrite, unknown>();
    try {
      this.db.transaction(() => {
        for (const item of batch) {
          s.savepoint.run();
          try {
            item.write();
            s.releaseSavepoint.run();
          } catch (error) {
            s.rollbackToSavepoint.run();
            s.releaseSavepoint.run();
            failures.set(item, error);
          }
        }
      })();
    } catch (error) {
      // The commit itself failed: nothing of the batch was written.
      for (const item of batch) item.reject(error);
      return;
    }
    for (const item of batch) {
      if (failures.has(item)) item.reject(failures.get(item));
      else item.resolve();
    }
  }

  async liveLeaseKeys(poolId: string, now: number): Promise<Set<string>> {
    const rows = this.s.liveLeaseKeys.all({ pool_id: poolId, now }) as { cli_key: string }[];
    return new Set(rows.map((r) => r.cli_key));
  }

  async lastCliKey(phone: string): Promise<string | undefined> {
    const row = this.s.lastCliKey.get({ phone }) as { cli_key: string } | undefined;
    return row?.cli_key;
  }

  async listWithLiveAttempts(limit: number): Promise<string[]> {
    const rows = this.s.listWithLiveAttempts.all({ limit }) as { verification_id: string }[];
    return rows.map((r) => r.verification_id);
  }

  async listExpired(now: number, limit: number): Promise<string[]> {
    const rows = this.s.listExpired.all({ now, limit }) as { id: string }[];
    return rows.map((r) => r.id);
  }

  async listEvents(verificationId: string): Promise<StoredEvent[]> {
    const rows = this.s.listEvents.all({ id: verificationId }) as Omit<EventsTable, "seq">[];
    return rows.map(toStoredEvent);
  }
}

function prepareStatements(db: SqliteDatabase.Database) {
  const statement = (sql: string): Statement => db.prepare(sql);
  return {
    claimIdempotency: statement(
      `${insertSql("idempotency_keys", ["application_id", "key", "request_hash", "verification_id", "created_at"])}
       on conflict (application_id, key) do nothing`,
    ),
    findIdempotency: statement("select * from idempotency_keys where application_id = @application_id and key = @key"),
    // A lease is free when absent or stale (its verification cannot be live any more).
    takeLease: statement(
      `${insertSql("cli_leases", ["pool_id", "cli_key", "verification_id", "expires_at"])}
       on conflict (cli_key) do update set pool_id = excluded.pool_id, verification_id = excluded.verification_id,
         expires_at = excluded.expires_at where cli_leases.expires_at < @now`,
    ),
    releaseLeases: statement("delete from cli_leases where verification_id = @id"),
    liveLeaseKeys: statement("select cli_key from cli_leases where pool_id = @pool_id and expires_at >= @now"),
    insertVerification: statement(insertSql("verifications", VERIFICATION_COLUMNS)),
    updateVerification: statement(
      `update verifications set ${assignments(VERIFICATION_COLUMNS)} where id = @id and version = @expected_version`,
    ),
    getVerification: statement("select * from verifications where id = @id"),
    insertAttempt: statement(insertSql("attempts", ATTEMPT_COLUMNS)),
    upsertAttempt: statement(
      `${insertSql("attempts", ATTEMPT_COLUMNS)} on conflict (id) do update set ${assignments(ATTEMPT_COLUMNS)}`,
    ),
    getAttempts: statement("select * from attempts where verification_id = @id order by seq"),
    setLastCli: statement(
      "insert into phone_last_cli (phone, cli_key) values (@phone, @cli_key) on conflict (phone) do update set cli_key = excluded.cli_key",
    ),
    lastCliKey: statement("select cli_key from phone_last_cli where phone = @phone"),
    listWithLiveAttempts: statement(
      `select distinct verification_id from attempts where status in ('dialing', 'ringing')
       order by verification_id limit @limit`,
    ),
    listExpired: statement(
      "select id from verifications where status = 'pending' and expires_at <= @now order by expires_at limit @limit",
    ),
    insertEvent: statement(insertSql("events", ["id", "verification_id", "attempt_id", "type", "data", "created_at"])),
    listEvents: statement("select * from events where verification_id = @id order by seq"),
    savepoint: statement("savepoint write"),
    releaseSavepoint: statement("release write"),
    rollbackToSavepoint: statement("rollback to write"),
  };
}
