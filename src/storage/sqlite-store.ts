/**
 * The default store: SQLite through better-sqlite3 directly. The hot path's reads run on statements prepared once on
 * the main connection; its writes are ops group-committed by the writer (a thread of their own for a file
 * database); what is not on the hot path is KyselyStore's (the base class), over the main connection. On the hot
 * path Kysely's per-query compilation and its async connection mutex cost several times what SQLite itself does.
 */
import type SqliteDatabase from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import type { FraudRule, IdempotencyRecord, NewVerification, ReverseAttemptRef, StoredEvent } from "../core/ports.js";
import type { RetentionStore } from "../core/retention.js";
import type { DomainEvent, Verification } from "../core/types.js";
import type { WebhookStore } from "../events/webhook-store.js";
import { KyselyStore } from "./kysely-store.js";
import { toReverseRef } from "./kysely-writes.js";
import { sqliteRetention } from "./retention-sqlite.js";
import {
  attemptRow,
  eventRows,
  fraudRuleRow,
  idempotencyRow,
  leaseRow,
  toAttempt,
  toIdempotencyRecord,
  toStoredEvent,
  toVerification,
  verificationRow,
} from "./rows.js";
import type { AttemptsTable, Database, EventsTable, IdempotencyKeysTable, VerificationsTable } from "./schema.js";
import { BACKSTOP_AUTOCHECKPOINT_PAGES } from "./sqlite-checkpointer.js";
import { GroupCommit } from "./sqlite-group-commit.js";
import { RecentVerifications } from "./sqlite-recent.js";
import {
  ATTEMPT_CHANGING,
  ATTEMPT_FIXED,
  changingRow,
  prepareStatements,
  type Statements,
  sameColumns,
  sameFixedFields,
} from "./sqlite-statements.js";
import { SqliteWebhooks } from "./sqlite-webhooks.js";
import { InlineTransport, ThreadTransport } from "./sqlite-writer.js";
import type { ResultOf, SaveOp, WriteOp } from "./sqlite-writes.js";
import { WebhookQueries } from "./webhook-queries.js";

export interface SqliteStoreOptions {
  /**
   * Where the writes run: a thread of their own on this file (a file database), or this connection (a private
   * `:memory:` database, which no other connection can open)
   */
  writer: "inline" | { file: string };
  /** stops what runs beside the connection (the WAL checkpointer), before it closes */
  onClose?: () => Promise<void>;
}

/**
 * The store's hot path: reads on prepared statements of this connection, writes as ops (sqlite-writes.ts)
 * group-committed by the writer (sqlite-writer.ts); reads of recently written verifications come from its own exact
 * cache.
 */
export class SqliteStore extends KyselyStore {
  /** webhook endpoints, deliveries and decision callbacks: the outbox's claims and outcomes through the writer */
  override readonly webhooks: WebhookStore;
  private statements: Statements | undefined;
  private commits: GroupCommit | undefined;
  private transport: InlineTransport | ThreadTransport | undefined;
  /**
   * The committed state of recently written verifications, so reading one back costs no query (two statements
   * and the row mapping measured about a tenth of the server's time): `getVerification` reads through it. Exact
   * because every write of a verification goes through this object, and an entry changes only once the writer has
   * answered that its write committed; a save refused by its version check drops the entry all the same, so the
   * retry reads the row. The domain copies a verification before changing it, so the objects handed out are never
   * modified.
   */
  private readonly recent = new RecentVerifications();

  /** @param db the main connection: reads, migrations and the rare administrative writes of the Kysely queries */
  constructor(
    readonly db: SqliteDatabase.Database,
    private readonly setup: SqliteStoreOptions = { writer: "inline" },
  ) {
    // Kysely serves the migrations and the rarely used administrative queries over the same connection. Their
    // writes stay on it because they are rare: keys, pools, endpoints, settings, templates, fraud rules deleted,
    // retention batches, the delivery measurement's counters (one write per AUTO_FLUSH_MS). While the
    // writer holds the database's write lock such a write waits for it (busy_timeout), which is one commit's time.
    const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: db }) });
    super(kysely);
    this.webhooks = new SqliteWebhooks({
      write: (op) => this.write(op),
      shared: new WebhookQueries(kysely, false),
    });
  }

  /** The prepared statements; they need the tables, so they exist only once `migrate()` has run. */
  private get s(): Statements {
    if (!this.statements) throw new Error("SqliteStore: call migrate() before using the store");
    return this.statements;
  }

  override async migrate(): Promise<void> {
    await super.migrate();
    this.statements = prepareStatements(this.db);
    if (this.transport) return;
    const writer = this.setup.writer;
    this.transport =
      writer === "inline"
        ? new InlineTransport(this.db)
        : await ThreadTransport.start(writer.file, { autocheckpointPages: BACKSTOP_AUTOCHECKPOINT_PAGES });
    this.commits = new GroupCommit(this.transport);
  }

  /** Queues `op` for the next group commit; `committed` runs once it has, in commit order. */
  write<O extends WriteOp>(op: O, committed?: (result: ResultOf<O>) => void): Promise<ResultOf<O>> {
    if (!this.commits) return Promise.reject(new Error("SqliteStore: call migrate() before using the store"));
    return this.commits.write(op, committed);
  }

  override async close(): Promise<void> {
    // Everything queued commits before the writer stops, and the writer stops before the connection closes.
    await this.commits?.drain();
    await this.transport?.stop();
    await this.setup.onClose?.();
    await super.close();
  }

  override async ping(): Promise<void> {
    if (this.transport instanceof ThreadTransport && this.transport.failed) throw this.transport.failed;
    this.db.prepare("select 1").get();
  }

  async createVerification(input: NewVerification): Promise<"created" | "cli_taken" | "idempotency_taken"> {
    const { verification: v, lease, idempotency } = input;
    return this.write(
      {
        k: "create",
        idempotency: idempotency ? idempotencyRow(idempotency) : null,
        lease: lease ? leaseRow(lease) : null,
        verification: verificationRow(v),
        attempts: v.attempts.map(attemptRow),
        lastCli: input.phoneLastCliKey === undefined ? null : { phone: v.phone, cli_key: input.phoneLastCliKey },
        events: eventRows(input.events, v.applicationId),
        applicationId: v.applicationId,
        wakeAt: input.wakeAt ?? null,
      },
      (outcome) => {
        if (outcome === "created") this.recent.remember(v);
      },
    );
  }

  override async findIdempotency(applicationId: string, key: string): Promise<IdempotencyRecord | undefined> {
    const row = this.s.findIdempotency.get({ application_id: applicationId, key }) as IdempotencyKeysTable | undefined;
    return row && toIdempotencyRecord(row);
  }

  async getVerification(id: string): Promise<Verification | undefined> {
    const cached = this.recent.get(id);
    if (cached) return cached;
    const row = this.s.getVerification.get({ id }) as VerificationsTable | undefined;
    if (!row) return undefined;
    const attempts = this.s.getAttempts.all({ id }) as AttemptsTable[];
    const v = toVerification(row, attempts.map(toAttempt));
    // Kept, so that the save that usually follows writes only what changed and the reads after it cost no query.
    // Exact: outside a transaction a read sees every commit, and a commit is answered only after it happened, so no
    // answer still to come is older than this. Inside one of the main connection's rare transactions (an
    // administrative Kysely query awaiting between its statements) the snapshot may be older: not kept.
    if (!this.db.inTransaction) this.recent.remember(v);
    return v;
  }

  /**
   * Retention and erasure on the main connection: periodic batches and administrative erasures, rare enough to wait
   * for the writer's lock when it holds it. They forget what `recent` holds of the verifications they redact.
   */
  override retentionStore(): RetentionStore {
    if (!this.statements) throw new Error("SqliteStore: call migrate() before using the store");
    return sqliteRetention(this.db, (ids) => {
      for (const id of ids) this.recent.delete(id);
      // A save the writer committed before the redaction may not have been answered yet, and its answer would put
      // the unredacted verification back: forget them again once every batch sent so far has been answered.
      void this.commits?.drain().then(() => {
        for (const id of ids) this.recent.delete(id);
      });
    });
  }

  async saveVerification(
    v: Verification,
    expectedVersion: number,
    events: DomainEvent[],
    releaseLeases: boolean,
    wakeAt?: number | null,
  ): Promise<boolean> {
    const before = this.recent.get(v.id);
    // What the committed row holds, when the cache knows it: then only what changed is sent and written.
    const previous = before?.version === expectedVersion ? before : undefined;
    const changingOnly = previous !== undefined && sameFixedFields(v, previous);
    const upserts: AttemptsTable[] = [];
    const progressed: Partial<AttemptsTable>[] = [];
    for (const a of v.attempts) {
      const row = attemptRow(a);
      const old = previous?.attempts.find((p) => p.id === a.id);
      if (!old) {
        upserts.push(row);
        continue;
      }
      const was = attemptRow(old);
      if (!sameColumns(row, was, ATTEMPT_FIXED)) upserts.push(row);
      // An attempt the change left as it was is not written again (a check changes none).
      else if (!sameColumns(row, was, ATTEMPT_CHANGING)) progressed.push(progressRow(row));
    }
    const op: SaveOp = {
      k: "save",
      verification: changingOnly ? changingRow(v) : verificationRow(v),
      changingOnly,
      expectedVersion,
      upserts,
      progressed,
      releaseLeases,
      events: eventRows(events, v.applicationId),
      applicationId: v.applicationId,
    };
    if (wakeAt !== undefined) op.wakeAt = wakeAt;
    return this.write(op, (saved) => {
      if (saved) this.recent.remember(v);
      else this.recent.delete(v.id);
    });
  }

  override async liveReverseAttempts(now: number, dial?: string, phone?: string): Promise<ReverseAttemptRef[]> {
    const s = this.s;
    const rows = (
      dial === undefined
        ? s.liveReverseAll.all({ now })
        : phone === undefined
          ? s.liveReverse.all({ now, dial })
          : s.liveReverseOfPhone.all({ now, dial, phone })
    ) as Parameters<typeof toReverseRef>[0][];
    return rows.map(toReverseRef);
  }

  override async liveLeaseKeys(poolId: string, now: number): Promise<Set<string>> {
    const rows = this.s.liveLeaseKeys.all({ pool_id: poolId, now }) as { cli_key: string }[];
    return new Set(rows.map((r) => r.cli_key));
  }

  async lastCliKey(phone: string): Promise<string | undefined> {
    const row = this.s.lastCliKey.get({ phone }) as { cli_key: string } | undefined;
    return row?.cli_key;
  }

  override async listWithLiveAttempts(limit: number): Promise<string[]> {
    const rows = this.s.listWithLiveAttempts.all({ limit }) as { verification_id: string }[];
    return rows.map((r) => r.verification_id);
  }

  override async claimTimers(now: number, claimUntil: number, limit: number): Promise<string[]> {
    return this.write({ k: "claimTimers", now, claimUntil, limit });
  }

  override async setTimer(verificationId: string, wakeAt: number | null): Promise<void> {
    await this.write({ k: "timer", id: verificationId, wakeAt });
  }

  override async listEvents(verificationId: string, afterSeq = 0): Promise<StoredEvent[]> {
    const rows = this.s.listEvents.all({ id: verificationId, after: afterSeq }) as (EventsTable & { seq: number })[];
    return rows.map(toStoredEvent);
  }

  // Fraud rules change rarely (admin calls, detector trips): the shared Kysely queries serve them, except the
  // write, which joins the group commit so that it and its events commit with everything else of that turn.
  override async insertFraudRule(rule: FraudRule, events: DomainEvent[]): Promise<void> {
    await this.write({
      k: "fraudRule",
      rule: fraudRuleRow(rule),
      events: eventRows(events, rule.applicationId),
      applicationId: rule.applicationId,
    });
  }
}

/** The id and the progress columns of an attempt row. */
function progressRow(row: AttemptsTable): Partial<AttemptsTable> {
  const out: Record<string, unknown> = { id: row.id };
  for (const column of ATTEMPT_CHANGING) out[column] = row[column];
  return out as Partial<AttemptsTable>;
}
