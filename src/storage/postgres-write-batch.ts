/**
 * Gathers the creates and saves a process issues in one turn of its event loop into one statement: one round trip
 * and one commit (one WAL flush) for all of them, where each would otherwise cost its own. Under load many requests
 * and call callbacks finish in the same turn; alone, a write goes as it did, in its own statement.
 *
 * The writes of a batch go in the order of their verification ids, so that two processes' batches take the rows'
 * locks in one order. A batch that fails (a deadlock all the same, a constraint) is repeated write by write, so that
 * only the write at fault fails.
 *
 * A statement whose answer never came (the connection dropped) may have committed all the same. Each of its writes is
 * then tried again alone, and one the retry refuses is looked up: if its verification's row is stored exactly as the
 * write made it (for a save, at the version it wrote) together with all its events, whose ids are random and so no
 * other write's, the lost statement did it and it is reported done; anything else keeps the retry's outcome. The
 * retry comes first because a lost statement still running holds the rows it needs: the retry waits for it, and the
 * primary key and the version check let only one of the two commit.
 */
import pg from "pg";

interface Payload {
  verification: { id: string };
  events: { id: string }[];
}

export type Write = { create: Payload } | { save: Payload };

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

// The row is compared as the write functions store it (jsonb_populate_record of the same payload), as jsonb so that
// every column type compares.
const WRITTEN = {
  name: "flashverify_written",
  text: `select exists (select 1 from verifications v where v.id = $1::jsonb->>'id'
        and to_jsonb(v) = to_jsonb(jsonb_populate_record(null::verifications, $1::jsonb)))
      and (select count(*) from events where id = any($2::text[])) = cardinality($2::text[]) as written`,
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
    batch.sort((a, b) => (idOf(a.write) < idOf(b.write) ? -1 : idOf(a.write) > idOf(b.write) ? 1 : 0));
    let outcomes: unknown[];
    try {
      outcomes = await this.send(batch);
    } catch (error) {
      // An error PostgreSQL answered rolled the statement back: nothing of it was written.
      const answered = error instanceof pg.DatabaseError;
      if (answered && batch.length === 1) return (batch[0] as Pending).reject(error);
      await Promise.all(batch.map((p) => this.again(p, !answered)));
      return;
    }
    batch.forEach((p, i) => {
      p.resolve(outcomes[i]);
    });
  }

  /** The outcomes of `batch`, in its order: a lone write as its own statement, several as one. */
  private async send(batch: Pending[]): Promise<unknown[]> {
    if (batch.length === 1) return [await this.one((batch[0] as Pending).write)];
    const result = await this.pool.query<{ outcomes: unknown[] }>({
      ...WRITE_BATCH,
      values: [JSON.stringify(batch.map((p) => p.write))],
    });
    return result.rows[0]?.outcomes ?? [];
  }

  private async one(write: Write): Promise<unknown> {
    const [statement, payload] = "create" in write ? [WRITE_ONE.create, write.create] : [WRITE_ONE.save, write.save];
    const result = await this.pool.query<{ o: unknown }>({ ...statement, values: [JSON.stringify(payload)] });
    return result.rows[0]?.o;
  }

  /** Tries a write of a failed statement again alone; `mayHaveCommitted` when that statement's answer was lost. */
  private async again({ write, resolve, reject }: Pending, mayHaveCommitted: boolean): Promise<void> {
    const done = "create" in write ? "created" : true;
    const retried = await this.one(write).then(
      (outcome) => ({ outcome }),
      (error: unknown) => ({ error }),
    );
    if ("outcome" in retried && retried.outcome === done) return resolve(done);
    // A failed lookup leaves the retry's outcome standing.
    if (mayHaveCommitted && (await this.written(write).catch(() => false))) return resolve(done);
    if ("outcome" in retried) resolve(retried.outcome);
    else reject(retried.error);
  }

  /** Whether the write is stored: its verification's row exactly as it wrote it, and all its events. */
  private async written(write: Write): Promise<boolean> {
    const payload = "create" in write ? write.create : write.save;
    const result = await this.pool.query<{ written: boolean }>({
      ...WRITTEN,
      values: [JSON.stringify(payload.verification), payload.events.map((e) => e.id)],
    });
    return result.rows[0]?.written === true;
  }
}
