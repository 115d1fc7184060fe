/**
 * SQLite writes are group-committed: the writes requested during one turn of the event loop run in one
 * transaction, each inside its own savepoint so that one write giving up (a taken CLI, a version conflict) rolls
 * back only itself. A commit costs far more than the statements of one write (WAL frames for every touched page),
 * and a busy server issues hundreds of writes per turn. Each write's promise resolves only after its batch has
 * committed.
 */
import type SqliteDatabase from "better-sqlite3";

interface PendingWrite {
  write: () => void;
  /** runs once the write's batch has committed, before its promise resolves */
  committed: (() => void) | undefined;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * How long a group commit waits for its turn of the event loop to end. A busy turn (many requests read in one poll)
 * would otherwise hold its first writes, and the calls they start, until every request of the turn is done; past
 * this, the next write commits the group in a microtask. Measured by `npm run bench` at 700/s: the server's p99 from
 * creating a verification to sending its INVITE went from 8-22 ms to 5-6 ms.
 */
const MAX_GROUP_MS = 2;

export class GroupCommit {
  private pending: PendingWrite[] = [];
  /** when the first of `pending` was queued, and whether its group is already set to commit in a microtask */
  private groupOpenedAt = 0;
  private earlyCommit = false;
  private readonly savepoint: SqliteDatabase.Statement;
  private readonly release: SqliteDatabase.Statement;
  private readonly rollback: SqliteDatabase.Statement;

  constructor(private readonly db: SqliteDatabase.Database) {
    this.savepoint = db.prepare("savepoint write");
    this.release = db.prepare("release write");
    this.rollback = db.prepare("rollback to write");
  }

  /**
   * Queues `write` for the next group commit; resolves once it has committed, rejects if it threw. `committed`
   * runs after the commit, in commit order.
   */
  write(write: () => void, committed?: () => void): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.pending.length === 0) {
        this.groupOpenedAt = performance.now();
        setImmediate(() => this.flush());
      } else if (!this.earlyCommit && performance.now() - this.groupOpenedAt >= MAX_GROUP_MS) {
        this.earlyCommit = true;
        queueMicrotask(() => this.flush());
      }
      this.pending.push({ write, committed, resolve, reject });
    });
  }

  /** Commits what is queued now (the store's close calls it so nothing queued is lost). */
  flush(): void {
    this.earlyCommit = false;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const failures = new Map<PendingWrite, unknown>();
    try {
      this.db.transaction(() => {
        for (const item of batch) {
          this.savepoint.run();
          try {
            item.write();
            this.release.run();
          } catch (error) {
            this.rollback.run();
            this.release.run();
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
      if (failures.has(item)) continue;
      item.committed?.();
    }
    for (const item of batch) {
      if (failures.has(item)) item.reject(failures.get(item));
      else item.resolve();
    }
  }
}
