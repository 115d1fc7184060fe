/**
 * SQLite writes are group-committed: the ops requested during one turn of the event loop travel as one batch and
 * run in one transaction (WriteContext.executeBatch), each in its own savepoint so that one op giving up (a taken
 * CLI, a version conflict) rolls back only itself. A commit costs far more than the statements of one write (WAL
 * frames for every touched page), and a busy server issues hundreds of writes per turn. Each op's promise resolves
 * only after its batch has committed; where the batch runs is the transport's (sqlite-writer.ts).
 */
import type { ResultOf, WriteOp, WriteOutcome } from "./sqlite-writes.js";

/** Runs a batch in one transaction: on this thread (synchronously) or on the writer thread. */
export interface WriteTransport {
  commit(ops: WriteOp[]): WriteOutcome[] | Promise<WriteOutcome[]>;
}

interface PendingWrite {
  op: WriteOp;
  /** runs once the op's batch has committed, before its promise resolves */
  committed: ((result: unknown) => void) | undefined;
  resolve: (result: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * How long a group commit waits for its turn of the event loop to end. A busy turn (many requests read in one poll)
 * would otherwise hold its first writes, and the calls they start, until every request of the turn is done; past
 * this, the next write sends the group in a microtask. Measured by `npm run bench` at 700/s: the server's p99 from
 * creating a verification to sending its INVITE went from 8-22 ms to 5-6 ms.
 */
const MAX_GROUP_MS = 2;

export class GroupCommit {
  private pending: PendingWrite[] = [];
  /** when the first of `pending` was queued, and whether its group is already set to go in a microtask */
  private groupOpenedAt = 0;
  private earlyCommit = false;
  /** batches sent and not yet answered, so that closing waits for them */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly transport: WriteTransport) {}

  /**
   * Queues `op` for the next group commit; resolves with its result once it has committed, rejects if it failed.
   * `committed` runs after the commit, in commit order.
   */
  write<O extends WriteOp>(op: O, committed?: (result: ResultOf<O>) => void): Promise<ResultOf<O>> {
    return new Promise((resolve, reject) => {
      if (this.pending.length === 0) {
        this.groupOpenedAt = performance.now();
        setImmediate(() => this.flush());
      } else if (!this.earlyCommit && performance.now() - this.groupOpenedAt >= MAX_GROUP_MS) {
        this.earlyCommit = true;
        queueMicrotask(() => this.flush());
      }
      this.pending.push({
        op,
        committed: committed as PendingWrite["committed"],
        resolve: resolve as PendingWrite["resolve"],
        reject,
      });
    });
  }

  /** Sends what is queued now; an inline transport has committed it when this returns. */
  flush(): void {
    this.earlyCommit = false;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    let outcomes: WriteOutcome[] | Promise<WriteOutcome[]>;
    try {
      outcomes = this.transport.commit(batch.map((item) => item.op));
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    if (Array.isArray(outcomes)) {
      settle(batch, outcomes);
      return;
    }
    const done = outcomes.then(
      (answered) => settle(batch, answered),
      (error: unknown) => {
        for (const item of batch) item.reject(error);
      },
    );
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
  }

  /** Sends what is queued and waits until every batch sent has been answered (the store's close). */
  async drain(): Promise<void> {
    this.flush();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }
}

function settle(batch: readonly PendingWrite[], outcomes: readonly WriteOutcome[]): void {
  // Every commit hook first, in commit order: a caller resumed by its promise then reads what all of them left.
  batch.forEach((item, i) => {
    const outcome = outcomes[i];
    if (outcome && "v" in outcome) item.committed?.(outcome.v);
  });
  batch.forEach((item, i) => {
    const outcome = outcomes[i];
    if (outcome && "v" in outcome) item.resolve(outcome.v);
    else item.reject(new Error(outcome ? outcome.e : "SQLite writer: no outcome for a write"));
  });
}
