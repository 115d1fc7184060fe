/**
 * The SQLite writer thread (see sqlite-writer.ts). Batches that arrive during one turn of this thread's event loop
 * commit together in one transaction, and their answers leave in one message: while the thread commits, the main
 * thread keeps sending, and the next turn takes everything that queued meanwhile. "stop" commits what came before
 * it, closes the connection and ends the thread.
 */
import { parentPort, workerData } from "node:worker_threads";
import { openDatabase } from "./sqlite-open.js";
import type { WriterMessage, WriterStartData } from "./sqlite-writer.js";
import { WriteContext, type WriteOp } from "./sqlite-writes.js";

const port = parentPort;
if (!port) throw new Error("sqlite-writer-thread runs as a worker thread");
const post = (message: WriterMessage) => port.postMessage(message);
const start = workerData as WriterStartData;

let context: WriteContext;
try {
  const db = openDatabase(start.file);
  if (start.autocheckpointPages > 0) db.pragma(`wal_autocheckpoint = ${start.autocheckpointPages}`);
  context = new WriteContext(db);
} catch (error) {
  post({ t: "failed", error: String(error) });
  throw error;
}

let queued: [number, WriteOp[]][] = [];
let scheduled = false;

function commit(): void {
  scheduled = false;
  const batches = queued;
  queued = [];
  if (batches.length === 0) return;
  const ops = batches.flatMap(([, batch]) => batch);
  const outcomes = context.executeBatch(ops);
  let at = 0;
  const answers = batches.map(([id, batch]) => {
    const mine = outcomes.slice(at, at + batch.length);
    at += batch.length;
    return [id, mine];
  });
  post({ t: "done", batches: JSON.stringify(answers) });
}

port.on("message", (message: string) => {
  if (message === "stop") {
    commit();
    context.db.close();
    port.close();
    return;
  }
  queued.push(JSON.parse(message) as [number, WriteOp[]]);
  if (!scheduled) {
    scheduled = true;
    setImmediate(commit);
  }
});

post({ t: "ready" });
