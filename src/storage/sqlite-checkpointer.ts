/**
 * WAL checkpoints off the main thread. SQLite runs a checkpoint inside whichever commit lets the WAL pass
 * `wal_autocheckpoint` pages: that commit then copies the WAL into the database file and waits for its fsyncs, and on
 * the server that commit is the event loop's. Here a thread of its own, on its own connection, runs a PASSIVE
 * checkpoint every CHECKPOINT_INTERVAL_MS; PASSIVE never waits for the writer, and the writer never waits for it.
 * Durability is unchanged: a commit is in the WAL either way, and a checkpoint interrupted by a crash is redone
 * from the WAL at the next open. The main connection keeps a far higher `wal_autocheckpoint` as a backstop, in
 * case this thread falls behind or dies.
 */
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

const CHECKPOINT_INTERVAL_MS = 200;
/** The main connection's own checkpoint threshold (pages; SQLite's default is 1,000). */
export const BACKSTOP_AUTOCHECKPOINT_PAGES = 20_000;

// CommonJS evaluated in the worker: tiny, and independent of how this module itself was loaded (dist or sources).
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
const timer = setInterval(() => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch (error) {
    parentPort.postMessage(String(error));
  }
}, workerData.intervalMs);
parentPort.on("message", () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  /** Stops the thread after its current checkpoint; resolves when it has closed its connection. */
  stop(): Promise<void>;
}

/** Starts checkpointing the WAL of `file` (an existing database in WAL mode) from a thread of its own. */
export function startCheckpointer(file: string, onError: (message: string) => void = () => {}): Checkpointer {
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { driver, file, intervalMs: CHECKPOINT_INTERVAL_MS },
  });
  worker.on("message", (message: unknown) => onError(String(message)));
  worker.on("error", (error) => onError(String(error)));
  // It must never keep a finished CLI command alive.
  worker.unref();
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  return {
    stop() {
      // Referenced again while it stops: otherwise a process with nothing else to do exits before the thread closes
      // its connection, with this promise still pending (node's exit code 13 for an unsettled top-level await).
      worker.ref();
      worker.postMessage("stop");
      return exited;
    },
  };
}
