/**
 * The store on PostgreSQL: the dialect-neutral Kysely store, with the hot path of a verification in one round trip
 * per call at most. A create and a save are one call each of the functions of migration 0007 (those of one turn of
 * the event loop share one statement, postgres-write-batch.ts), a read is one query with its
 * attempts aggregated (one for all the reads of a turn, postgres-read-batch.ts), and a claim of webhook deliveries
 * returns their events and endpoints in the same statement (migration 0011's function), and their outcomes are one
 * statement too (postgres-outbox.ts).
 * These go to node-postgres directly as named (prepared) statements: parsed and planned once per connection, and
 * never through Kysely's query building.
 *
 * Every statement here has a result type that later migrations cannot change (explicit columns, json, functions'
 * scalar results): PostgreSQL refuses a prepared statement whose result columns changed, and a node still running
 * the old code while another migrates must keep working.
 */
import type { Kysely } from "kysely";
import type pg from "pg";
import type { NewVerification } from "../core/ports.js";
import type { DomainEvent, Verification } from "../core/types.js";
import type { ClaimedDelivery, DeliveryResult } from "../events/webhook-store.js";
import { KyselyStore, type KyselyStoreOptions } from "./kysely-store.js";
import { completeDeliveries } from "./postgres-outbox.js";
import { ReadBatcher } from "./postgres-read-batch.js";
import { WriteBatcher } from "./postgres-write-batch.js";
import {
  attemptRow,
  eventRows,
  idempotencyRow,
  leaseRow,
  toAttempt,
  toDelivery,
  toEndpoint,
  toStoredEvent,
  toVerification,
  VERIFICATION_READ_COLUMNS,
  verificationRow,
} from "./rows.js";
import type {
  AttemptsTable,
  Database,
  EventsTable,
  VerificationsTable,
  WebhookDeliveriesTable,
  WebhookEndpointsTable,
} from "./schema.js";
import { WebhookQueries } from "./webhook-queries.js";

// The two reads by key are unnamed statements, planned at each execution. A named one gets a generic plan after five
// executions, and on a new deployment those five run while the table still fits a page: the generic plan is then a
// sequential scan, kept until autovacuum next analyzes the table, while the table grows by hundreds of rows a
// second (seen in `npm run bench -- --store postgres`: most of PostgreSQL's CPU in seq scans of `verifications`).
const GET_VERIFICATION = {
  text: `select ${VERIFICATION_READ_COLUMNS.map((c) => `v.${c}`).join(", ")},
      coalesce((select json_agg(a order by a.seq) from attempts a where a.verification_id = v.id), '[]') as attempts
    from verifications v where v.id = any($1::text[])`,
};

const LAST_CLI_KEY = {
  text: "select phone, cli_key from phone_last_cli where phone = any($1::text[])",
};

// Migration 0011's function: chain heads and their followers, at a cost that follows the batch (see there).
const CLAIM_DELIVERIES = {
  name: "flashverify_claim_deliveries_0011",
  text: "select delivery, event, endpoint from flashverify_claim_deliveries($1, $2, $3)",
};

type CreateOutcome = "created" | "cli_taken" | "idempotency_taken";

/** verifications remembered as this process last wrote them (see `written`): a few seconds' worth at thousands a second */
const WRITTEN_LIMIT = 5_000;

export class PostgresStore extends KyselyStore {
  /**
   * The live verifications this process wrote last, as it wrote them, for `lastWritten`: the next change of one
   * this process drives (its call ringing, then ending) costs a save but no read. Other processes may write the same
   * database, so an entry may be out of date: a save its version check refused forgets it. Ended ones leave (they
   * seldom change again), and the least recently written past the limit.
   */
  private readonly written = new Map<string, Verification>();

  private readonly writes: WriteBatcher;
  private readonly verifications: ReadBatcher<VerificationsTable & { attempts: AttemptsTable[] }, Verification>;
  private readonly lastCliKeys: ReadBatcher<string, string>;

  constructor(
    db: Kysely<Database>,
    readonly pool: pg.Pool,
    options: KyselyStoreOptions = {},
  ) {
    super(db, { ...options, skipLocked: true }, new PostgresWebhookQueries(db, pool));
    this.writes = new WriteBatcher(pool);
    this.verifications = new ReadBatcher(
      async (ids) => {
        const result = await pool.query<VerificationsTable & { attempts: AttemptsTable[] }>({
          ...GET_VERIFICATION,
          values: [ids],
        });
        return new Map(result.rows.map((row) => [row.id, row]));
      },
      (row) => toVerification(row, row.attempts.map(toAttempt)),
    );
    this.lastCliKeys = new ReadBatcher(
      async (phones) => {
        const result = await pool.query<{ phone: string; cli_key: string }>({ ...LAST_CLI_KEY, values: [phones] });
        return new Map(result.rows.map((row) => [row.phone, row.cli_key]));
      },
      (cliKey) => cliKey,
    );
  }

  override async createVerification(input: NewVerification): Promise<CreateOutcome> {
    const { verification: v, lease, idempotency } = input;
    const payload = {
      verification: verificationRow(v),
      attempts: v.attempts.map(attemptRow),
      lease: lease ? leaseRow(lease) : null,
      phone_last_cli: input.phoneLastCliKey ?? null,
      events: eventRows(input.events, v.applicationId),
      idempotency: idempotency ? idempotencyRow(idempotency) : null,
      wake_at: input.wakeAt ?? null,
    };
    const outcome = (await this.writes.write({ create: payload })) as CreateOutcome;
    if (outcome === "created") this.wrote(v);
    return outcome;
  }

  override async getVerification(id: string): Promise<Verification | undefined> {
    return this.verifications.read(id);
  }

  override async saveVerification(
    v: Verification,
    expectedVersion: number,
    events: DomainEvent[],
    releaseLeases: boolean,
    wakeAt?: number | null,
  ): Promise<boolean> {
    const payload = {
      verification: verificationRow(v),
      expected_version: expectedVersion,
      attempts: v.attempts.map(attemptRow),
      release_leases: releaseLeases,
      events: eventRows(events, v.applicationId),
      // Absent leaves the timer where it is.
      ...(wakeAt === undefined ? {} : { wake_at: wakeAt }),
    };
    const saved = (await this.writes.write({ save: payload })) === true;
    this.saved(v, saved);
    return saved;
  }

  lastWritten(id: string): Verification | undefined {
    return this.written.get(id);
  }

  /** After a create committed, or a save did: `v` is what this process wrote last. */
  protected wrote(v: Verification): void {
    this.written.delete(v.id);
    if (v.endedAt !== null) return;
    this.written.set(v.id, v);
    if (this.written.size > WRITTEN_LIMIT) this.written.delete(this.written.keys().next().value as string);
  }

  /** After a save: remembered if it was written, forgotten if its version check refused it (another writer won). */
  protected saved(v: Verification, written: boolean): void {
    if (written) this.wrote(v);
    else this.written.delete(v.id);
  }

  protected override forget(ids: readonly string[]): void {
    for (const id of ids) this.written.delete(id);
  }

  override async lastCliKey(phone: string): Promise<string | undefined> {
    return this.lastCliKeys.read(phone);
  }
}

/** The outbox's claim and outcomes as single statements (migrations 0011 and 0016); the rest as WebhookQueries. */
class PostgresWebhookQueries extends WebhookQueries {
  constructor(
    db: Kysely<Database>,
    private readonly pool: pg.Pool,
  ) {
    super(db, true);
  }

  override async claimDeliveries(now: number, claimUntil: number, limit: number): Promise<ClaimedDelivery[]> {
    const result = await this.pool.query<{
      delivery: WebhookDeliveriesTable;
      event: Omit<EventsTable, "seq"> & { seq: number };
      endpoint: WebhookEndpointsTable;
    }>({ ...CLAIM_DELIVERIES, values: [now, claimUntil, limit] });
    return result.rows.map((r) => ({
      delivery: toDelivery(r.delivery),
      event: toStoredEvent(r.event),
      endpoint: toEndpoint(r.endpoint),
    }));
  }

  override async completeDeliveries(results: DeliveryResult[], released: string[] = []): Promise<void> {
    await completeDeliveries(this.pool, results, released);
  }
}
