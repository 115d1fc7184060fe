/**
 * Gathers the creates and saves a process issues in one turn of its event loop into one statement: one round trip
 * and one commit (one WAL flush) for all of them, where each would otherwise cost its own. Under load many requests
 * and call callbacks finish in the same turn; alone, a write goes as it did, in its own statement.
 *
 * The writes of a batch go in the order of their verification ids, so that two processes' batches take the rows'
 * locks in one order. A batch that fails (a deadlock all the same, a constraint) is repeated write by write, so that
 * only the write at fault fails.
 */
import type pg from "pg";

export type Write = { create: { verification: { id: string } } } | { save: { verification: { id: string } } };

interface Pending {
  write: Write;
  resolve(outcome: unknown): void;
  reject(error: unknown): void;
}

const WRITE_BATCH = {
  name: "flashverify_write_batch",
  text: "select flashverify_write_batch($1::jsonb) as outcomes",
};

const WRITE_ONE = {
  create: { name: "flashverify_create_verification", text: "select flashverify_create_verification($1::jsonb) as o" },
  save: { name: "flashverify_save_verification", text: "select flashverify_save_verification($1::jsonb) as o" },
};

const idOf = (w: Write) => ("create" in w ? w.create : w.save).verification.id;

export class WriteBatcher {
  private pending: Pending[] = [];

  constructor(private readonly pool: pg.Pool) {}

  /** Resolves with the write's outcome: a create's 'created' | 'cli_taken' | 'idempotency_taken', a save's boolean. */
  write(write: Write): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => this.flush());
      this.pending.push({ write, resolve, reject });
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 1) return this.one(batch[0] as Pending);
    batch.sort((a, b) => (idOf(a.write) < idOf(b.write) ? -1 : idOf(a.write) > idOf(b.write) ? 1 : 0));
    let outcomes: unknown[];
    try {
      const result = await this.pool.query<{ outcomes: unknown[] }>({
        ...WRITE_BATCH,
        values: [JSON.stringify(batch.map((p) => p.write))],
      });
      outcomes = result.rows[0]?.outcomes ?? [];
    } catch {
      await Promise.all(batch.map((p) => this.one(p)));
      return;
    }
    batch.forEach((p, i) => {
      p.resolve(outcomes[i]);
    });
  }

  private async one({ write, resolve, reject }: Pending): Promise<void> {
    const [statement, payload] = "create" in write ? [WRITE_ONE.create, write.create] : [WRITE_ONE.save, write.save];
    try {
      const result = await this.pool.query<{ o: unknown }>({ ...statement, values: [JSON.stringify(payload)] });
      resolve(result.rows[0]?.o);
    } catch (error) {
      reject(error);
    }
  }
}
