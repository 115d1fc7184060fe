/**
 * The SQLite store's writes as data. Each write is an op of plain rows, computed on the main thread, and this module
 * is the one place that turns ops into statements: `executeBatch` runs a batch in one transaction, each op in its own
 * savepoint, and answers an outcome per op. The same function runs on the main connection (a private `:memory:`
 * database, which no second connection can open) and on the writer thread's connection (sqlite-writer.ts), so the
 * write logic exists once whichever way the ops travel. Ops and outcomes are JSON-safe: the thread receives them as
 * one string per batch.
 */
import type SqliteDatabase from "better-sqlite3";
import { deliveryId } from "./rows.js";
import type {
  AttemptsTable,
  CliLeasesTable,
  EventsTable,
  FraudRulesTable,
  IdempotencyKeysTable,
  VerificationsTable,
  WebhookAttemptsTable,
  WebhookDeliveriesTable,
  WebhookEndpointsTable,
} from "./schema.js";
import { prepareStatements, type Statements } from "./sqlite-statements.js";

type EventRow = Omit<EventsTable, "seq">;

export interface CreateOp {
  k: "create";
  idempotency: IdempotencyKeysTable | null;
  lease: CliLeasesTable | null;
  verification: VerificationsTable;
  attempts: AttemptsTable[];
  lastCli: { phone: string; cli_key: string } | null;
  events: EventRow[];
  applicationId: string;
  wakeAt: number | null;
}

export interface SaveOp {
  k: "save";
  /** the whole row, or (`changingOnly`) the id and the columns a transition may change */
  verification: Partial<VerificationsTable> & { id: string };
  changingOnly: boolean;
  expectedVersion: number;
  /** attempts written whole (new, or a fixed column changed) */
  upserts: AttemptsTable[];
  /** attempts of which only the progress columns changed */
  progressed: Partial<AttemptsTable>[];
  releaseLeases: boolean;
  events: EventRow[];
  applicationId: string;
  /** null deletes the timer; absent leaves it */
  wakeAt?: number | null;
}

export interface DeliveryOutcomeRow {
  attempt: WebhookAttemptsTable;
  id: string;
  status: string;
  next_attempt_at: number;
  disable: string | null;
}

export interface LimitStepRow {
  op: "consume" | "peek" | "refund";
  /** the counter's row key: rule and key, as rate-limiter-flexible's RateLimiterSQLite names it */
  key: string;
  points: number;
  /** the rule's points: more consumed than this is refused */
  limit: number;
  durationMs: number;
}

export interface LimitDecisionRow {
  allowed: boolean;
  consumed: number;
  msBeforeNext: number;
}

export type WriteOp =
  | CreateOp
  | SaveOp
  | { k: "timer"; id: string; wakeAt: number | null }
  | { k: "fraudRule"; rule: FraudRulesTable; events: EventRow[]; applicationId: string }
  | { k: "claimTimers"; now: number; claimUntil: number; limit: number }
  | { k: "claimDeliveries"; now: number; claimUntil: number; limit: number }
  | { k: "renewClaims"; ids: string[]; claimedUntil: number; until: number }
  | { k: "completeDeliveries"; results: DeliveryOutcomeRow[]; released: string[] }
  | { k: "listeners" }
  | { k: "limit"; steps: LimitStepRow[] };

export interface ClaimedDeliveryRows {
  delivery: WebhookDeliveriesTable;
  event: EventsTable & { seq: number };
  endpoint: WebhookEndpointsTable;
}

/** What each kind of op answers. */
export interface WriteResults {
  create: "created" | "cli_taken" | "idempotency_taken";
  save: boolean;
  timer: null;
  fraudRule: null;
  claimTimers: string[];
  claimDeliveries: ClaimedDeliveryRows[];
  renewClaims: number;
  completeDeliveries: null;
  listeners: null;
  /** a peek of a key without a window is null; the steps after the first refused one are not run */
  limit: (LimitDecisionRow | null)[];
}

export type ResultOf<O extends WriteOp> = WriteResults[O["k"]];

/** An op's outcome: its result, or the message of the error that rolled it back. */
export type WriteOutcome = { v: unknown } | { e: string };

/** Why an op gave up; thrown inside its savepoint so that everything it wrote rolls back. */
class Abort extends Error {
  constructor(readonly result: unknown) {
    super("abort");
  }
}

/** How many batches run with savepoints after one in which an op gave up. */
const GUARDED_AFTER_GIVING_UP = 16;

type Listeners = Map<string, { id: string; types: ReadonlySet<string> | null }[]>;

/** A connection ready to execute ops: its statements and the webhook listeners it inserts deliveries for. */
export class WriteContext {
  readonly s: Statements;
  private readonly savepoint: SqliteDatabase.Statement;
  private readonly release: SqliteDatabase.Statement;
  private readonly rollback: SqliteDatabase.Statement;
  private readonly limitUpsert: SqliteDatabase.Statement;
  private readonly limitGet: SqliteDatabase.Statement;
  /**
   * The enabled webhook endpoints of each application with their type filters, so that writing an event costs no
   * query when nobody listens (an INSERT ... SELECT per event measured ~25 µs even with no endpoint at all). Exact
   * because every endpoint change ends with a `listeners` op (or, for an endpoint disabled by its failures, happens
   * here), and the server lease makes this the database's only writer.
   */
  private listeners: Listeners = new Map();
  /** batches still to run with a savepoint per op since one gave up (see `executeBatch`) */
  private guardedBatches = 0;

  /** @param db a migrated database */
  constructor(readonly db: SqliteDatabase.Database) {
    this.s = prepareStatements(db);
    this.savepoint = db.prepare("savepoint write");
    this.release = db.prepare("release write");
    this.rollback = db.prepare("rollback to write");
    // The statements of rate-limiter-flexible's RateLimiterSQLite, so counters written before carry on.
    this.limitUpsert = db.prepare(
      `insert into rate_limits (key, points, expire) values (@key, @points, @expire)
       on conflict (key) do update set
         points = case when expire is null or expire > @now then points + excluded.points else excluded.points end,
         expire = case when expire is null or expire > @now then expire else excluded.expire end
       returning points, expire`,
    );
    this.limitGet = db.prepare(
      "select points, expire from rate_limits where key = @key and (expire > @now or expire is null)",
    );
    this.loadListeners();
  }

  private loadListeners(): void {
    const rows = this.s.enabledEndpoints.all() as Pick<
      WebhookEndpointsTable,
      "id" | "application_id" | "event_types"
    >[];
    const listeners: Listeners = new Map();
    for (const row of rows) {
      const types = row.event_types === "*" ? null : new Set(row.event_types.split(",").filter(Boolean));
      const list = listeners.get(row.application_id) ?? [];
      list.push({ id: row.id, types });
      listeners.set(row.application_id, list);
    }
    this.listeners = listeners;
  }

  /**
   * Runs `ops` in one transaction, each in its own savepoint so that one giving up (a taken CLI, a version conflict,
   * an error) rolls back only itself. If the commit itself fails, every op answers its error: nothing was written.
   *
   * A savepoint per op cost about a tenth of a write (two more statements, and the undo copy of every page the op
   * touches), and almost no op gives up: so a batch first runs without them, and only if one op gives up is the
   * whole transaction rolled back and the batch run again with them. After that, the next batches go straight to
   * savepoints for a while (a pool short of CLIs makes many ops give up; running those twice would cost more).
   */
  executeBatch(ops: readonly WriteOp[]): WriteOutcome[] {
    if (this.guardedBatches > 0) {
      this.guardedBatches--;
      return this.executeGuarded(ops);
    }
    let outcomes: WriteOutcome[];
    try {
      outcomes = this.db.transaction(() => ops.map((op) => ({ v: this.execute(op) })))();
    } catch {
      // Rolled back whole, whatever the reason (an op giving up, an error, the commit): run with savepoints, which
      // tells each op's outcome apart. What a rolled-back op changed of the listeners is read again.
      this.loadListeners();
      this.guardedBatches = GUARDED_AFTER_GIVING_UP;
      return this.executeGuarded(ops);
    }
    return outcomes;
  }

  private executeGuarded(ops: readonly WriteOp[]): WriteOutcome[] {
    const outcomes: WriteOutcome[] = [];
    try {
      this.db.transaction(() => {
        for (const op of ops) {
          this.savepoint.run();
          try {
            outcomes.push({ v: this.execute(op) });
            this.release.run();
          } catch (error) {
            this.rollback.run();
            this.release.run();
            outcomes.push(error instanceof Abort ? { v: error.result } : { e: String(error) });
          }
        }
      })();
    } catch (error) {
      // Reloaded: a disabled endpoint's change did not commit either.
      this.loadListeners();
      return ops.map(() => ({ e: String(error) }));
    }
    return outcomes;
  }

  private execute(op: WriteOp): unknown {
    const s = this.s;
    switch (op.k) {
      case "create":
        return this.create(op);
      case "save":
        return this.save(op);
      case "timer":
        if (op.wakeAt === null) s.deleteTimer.run({ verification_id: op.id });
        else s.upsertTimer.run({ verification_id: op.id, due_at: op.wakeAt });
        return null;
      case "fraudRule":
        s.insertFraudRule.run(op.rule);
        this.insertEvents(op.events, op.applicationId);
        return null;
      case "claimTimers": {
        const rows = s.claimTimers.all({ now: op.now, claim_until: op.claimUntil, limit: op.limit });
        return (rows as { verification_id: string }[]).map((r) => r.verification_id);
      }
      case "claimDeliveries":
        return this.claimDeliveries(op.now, op.claimUntil, op.limit);
      case "renewClaims": {
        let renewed = 0;
        for (const id of op.ids) {
          renewed += s.renewClaim.run({ id, claimed_until: op.claimedUntil, until: op.until }).changes;
        }
        return renewed;
      }
      case "completeDeliveries":
        this.completeDeliveries(op.results, op.released);
        return null;
      case "listeners":
        this.loadListeners();
        return null;
      case "limit":
        return this.limit(op.steps);
    }
  }

  private create(op: CreateOp): WriteResults["create"] {
    const s = this.s;
    const v = op.verification;
    if (op.idempotency && s.claimIdempotency.run(op.idempotency).changes === 0) throw new Abort("idempotency_taken");
    if (op.lease && s.takeLease.run({ ...op.lease, now: v.created_at }).changes === 0) throw new Abort("cli_taken");
    s.insertVerification.run(v);
    for (const a of op.attempts) s.insertAttempt.run(a);
    if (op.lastCli) s.setLastCli.run(op.lastCli);
    this.insertEvents(op.events, op.applicationId);
    if (op.wakeAt !== null) s.upsertTimer.run({ verification_id: v.id, due_at: op.wakeAt });
    return "created";
  }

  private save(op: SaveOp): boolean {
    const s = this.s;
    const row = { ...op.verification, expected_version: op.expectedVersion };
    const updated = op.changingOnly ? s.updateVerificationChanging.run(row) : s.updateVerification.run(row);
    if (updated.changes !== 1) throw new Abort(false);
    for (const a of op.upserts) s.upsertAttempt.run(a);
    for (const a of op.progressed) s.updateAttemptChanging.run(a);
    if (op.releaseLeases) s.releaseLeases.run({ id: op.verification.id });
    this.insertEvents(op.events, op.applicationId);
    if (op.wakeAt === null) s.deleteTimer.run({ verification_id: op.verification.id });
    else if (op.wakeAt !== undefined) s.upsertTimer.run({ verification_id: op.verification.id, due_at: op.wakeAt });
    return true;
  }

  /** The events, and the outbox's delivery rows for the endpoints that want each one. */
  private insertEvents(events: readonly EventRow[], applicationId: string): void {
    const s = this.s;
    const endpoints = this.listeners.get(applicationId);
    for (const row of events) {
      const inserted = s.insertEvent.run(row);
      if (!endpoints) continue;
      for (const endpoint of endpoints) {
        if (endpoint.types && !endpoint.types.has(row.type)) continue;
        s.insertDelivery.run({
          id: deliveryId(row.id, endpoint.id),
          endpoint_id: endpoint.id,
          event_seq: inserted.lastInsertRowid,
          event_id: row.id,
          verification_id: row.verification_id,
          now: row.created_at,
        });
      }
    }
  }

  private claimDeliveries(now: number, claimUntil: number, limit: number): ClaimedDeliveryRows[] {
    const s = this.s;
    const rows = s.claimDeliveries.all({ now, claim_until: claimUntil, limit }) as WebhookDeliveriesTable[];
    const endpoints = new Map<string, WebhookEndpointsTable | undefined>();
    const out: ClaimedDeliveryRows[] = [];
    for (const delivery of rows) {
      const event = s.eventBySeq.get({ seq: delivery.event_seq }) as (EventsTable & { seq: number }) | undefined;
      if (!endpoints.has(delivery.endpoint_id)) {
        endpoints.set(delivery.endpoint_id, s.endpointById.get({ id: delivery.endpoint_id }) as WebhookEndpointsTable);
      }
      const endpoint = endpoints.get(delivery.endpoint_id);
      if (event && endpoint) out.push({ delivery, event, endpoint });
    }
    return out;
  }

  private completeDeliveries(results: readonly DeliveryOutcomeRow[], released: readonly string[]): void {
    const s = this.s;
    for (const id of released) s.releaseDelivery.run({ id });
    let disabled = false;
    for (const r of results) {
      s.insertDeliveryAttempt.run(r.attempt);
      s.completeDelivery.run({
        id: r.id,
        status: r.status,
        next_attempt_at: r.next_attempt_at,
        status_code: r.attempt.status_code,
        error: r.attempt.error,
        latency_ms: r.attempt.latency_ms,
        ended_at: r.status === "pending" ? null : r.attempt.attempted_at,
      });
      if (r.status === "pending") s.deferChain.run({ id: r.id, next_attempt_at: r.next_attempt_at });
      if (r.disable) {
        s.disableEndpoint.run({ id: r.attempt.endpoint_id, reason: r.disable, now: r.attempt.attempted_at });
        disabled = true;
      }
    }
    // Read back inside the transaction: the disabled endpoint gets no delivery from the next op on.
    if (disabled) this.loadListeners();
  }

  /**
   * The fraud counters, with rate-limiter-flexible's semantics: a consume adds its points within the key's window
   * (starting a new window once the old one has passed) and is refused past the rule's points, its points still
   * counted; a refund is a consume of negative points. Running here, one op at a time, makes check-and-increment
   * atomic however many requests race.
   */
  private limit(steps: readonly LimitStepRow[]): (LimitDecisionRow | null)[] {
    const now = Date.now();
    const decisions: (LimitDecisionRow | null)[] = [];
    for (const step of steps) {
      if (step.op === "peek") {
        const row = this.limitGet.get({ key: step.key, now }) as { points: number; expire: number | null } | undefined;
        const decision = row ? decide(row, now, row.points < step.limit) : null;
        decisions.push(decision);
        if (decision && !decision.allowed) break;
        continue;
      }
      const points = step.op === "refund" ? -step.points : step.points;
      const expire = step.durationMs > 0 ? now + step.durationMs : null;
      const row = this.limitUpsert.get({ key: step.key, points, expire, now }) as {
        points: number;
        expire: number | null;
      };
      const decision = decide(row, now, row.points <= step.limit);
      decisions.push(decision);
      if (!decision.allowed) break;
    }
    return decisions;
  }
}

function decide(row: { points: number; expire: number | null }, now: number, allowed: boolean): LimitDecisionRow {
  return { allowed, consumed: row.points, msBeforeNext: row.expire ? Math.max(row.expire - now, 0) : -1 };
}
