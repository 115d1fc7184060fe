/**
 * Where the SQLite store's group commits run. The server's one JavaScript thread is its throughput limit, and
 * executing the statements of a busy turn and waiting for its commit took a large share of it; so a file database
 * gets a writer thread with a connection of its own (sqlite-writer-thread.ts): the main thread sends each turn's ops
 * as one message and gets one message back per transaction the writer commits. The main connection reads; in WAL
 * mode it sees every committed transaction, and the store's cache of recent writes is updated only from the
 * writer's answers, after their commit. A private `:memory:` database exists only on its own connection, so its
 * batches run on the main thread (`InlineTransport`), through the same executor.
 *
 * Messages are strings (JSON of the batch): copying one string costs far less than the structured clone of the
 * hundreds of small row objects a busy turn writes.
 */
import type { Worker } from "node:worker_threads";
import type SqliteDatabase from "better-sqlite3";
import { spawnModuleWorker } from "../sip/spawn-module-worker.js";
import type { WriteTransport } from "./sqlite-group-commit.js";
import { WriteContext, type WriteOp, type WriteOutcome } from "./sqlite-writes.js";

/** Batches on this thread's connection. */
export class InlineTransport implements WriteTransport {
  private readonly context: WriteContext;

  constructor(db: SqliteDatabase.Database) {
    this.context = new WriteContext(db);
  }

  commit(ops: WriteOp[]): WriteOutcome[] {
    return this.context.executeBatch(ops);
  }

  async stop(): Promise<void> {}
}

/** From the thread: ready (statements prepared), the answers of the batches it committed, or why it could not start. */
export type WriterMessage = { t: "ready" } | { t: "done"; batches: string } | { t: "failed"; error: string };

export interface ThreadTransportOptions {
  /** the thread died or could not commit; the store then refuses writes (and /readyz fails) */
  onError?: (error: Error) => void;
  /** the backstop checkpoint threshold of the writer's connection (pages) */
  autocheckpointPages?: number;
}

/** Batches on the writer thread's connection. */
export class ThreadTransport implements WriteTransport {
  private nextBatch = 1;
  private readonly waiting = new Map<
    number,
    { resolve: (outcomes: WriteOutcome[]) => void; reject: (e: Error) => void }
  >();
  private failure: Error | null = null;
  private stopping = false;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly worker: Worker,
    private readonly onError: (error: Error) => void,
  ) {
    this.exited = new Promise((resolve) => worker.once("exit", () => resolve()));
    worker.on("message", (message: WriterMessage) => {
      if (message.t === "done") this.answered(message.batches);
      else if (message.t === "failed") this.fail(new Error(`SQLite writer thread: ${message.error}`));
    });
    worker.on("error", (error) => this.fail(new Error(`SQLite writer thread failed: ${error.message}`)));
    worker.on("exit", (code) => {
      if (!this.stopping) this.fail(new Error(`SQLite writer thread exited (code ${code})`));
    });
    // Idle, it must not keep a finished CLI command alive; it is referenced while batches await their answer.
    worker.unref();
  }

  /** Starts the writer thread on `file` (a migrated database) and waits until it is ready. */
  static start(file: string, options: ThreadTransportOptions = {}): Promise<ThreadTransport> {
    const worker = spawnModuleWorker(import.meta.url, "./sqlite-writer-thread", {
      file,
      autocheckpointPages: options.autocheckpointPages ?? 0,
    } satisfies WriterStartData);
    const onError = options.onError ?? ((error) => console.error(`flashverify: ${error.message}`));
    return new Promise((resolve, reject) => {
      const exited = (code: number) =>
        early(new Error(`SQLite writer thread exited (code ${code}) before it was ready`));
      const stopListening = () => {
        worker.off("message", first);
        worker.off("error", early);
        worker.off("exit", exited);
      };
      const early = (error: unknown) => {
        stopListening();
        // A thread that failed to open its database also throws: that error is this one.
        worker.on("error", () => {});
        void worker.terminate();
        reject(error instanceof Error ? error : new Error(String(error)));
      };
      const first = (message: WriterMessage) => {
        if (message.t !== "ready") {
          early(new Error(`SQLite writer thread did not start: ${message.t === "failed" ? message.error : message.t}`));
          return;
        }
        stopListening();
        resolve(new ThreadTransport(worker, onError));
      };
      worker.on("message", first);
      worker.on("error", early);
      worker.on("exit", exited);
    });
  }

  /** Why the thread stopped serving, if it did. */
  get failed(): Error | null {
    return this.failure;
  }

  commit(ops: WriteOp[]): Promise<WriteOutcome[]> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.stopping) return Promise.reject(new Error("SQLite writer thread stopped: the store is closed"));
    const id = this.nextBatch++;
    return new Promise((resolve, reject) => {
      if (this.waiting.size === 0) this.worker.ref();
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage(JSON.stringify([id, ops]));
    });
  }

  private answered(json: string): void {
    for (const [id, outcomes] of JSON.parse(json) as [number, WriteOutcome[]][]) {
      const waiter = this.waiting.get(id);
      this.waiting.delete(id);
      waiter?.resolve(outcomes);
    }
    if (this.waiting.size === 0) this.worker.unref();
  }

  /**
   * A thread that died may have committed a batch it had not answered yet: its writes are rejected all the same
   * (a caller retries or reports, as for any failed write), never left waiting.
   */
  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.onError(error);
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
    this.worker.unref();
  }

  /** Lets the thread commit what it was sent, close its connection and exit. */
  async stop(): Promise<void> {
    if (this.stopping) return this.exited;
    this.stopping = true;
    if (!this.failure) {
      this.worker.ref();
      this.worker.postMessage("stop");
    }
    await this.exited;
  }
}

export interface WriterStartData {
  file: string;
  autocheckpointPages: number;
}
