/**
 * A worker thread's messages to the thread that started it, sent as one array per turn of the worker's event loop:
 * a busy turn produces hundreds of small messages (call records, ring notices, inbound INVITEs), and one
 * `postMessage` per turn costs far less than one per message. The receiving side handles arrays.
 */
import type { MessagePort } from "node:worker_threads";

export interface BatchedPoster<T> {
  /** queues `message` for the end of this turn */
  post(message: T): void;
  /** sends what is queued now (before closing the port) */
  flush(): void;
}

/** @param schedule when the turn's batch goes: by default after the turn's I/O (setImmediate) */
export function batchedPoster<T>(
  port: Pick<MessagePort, "postMessage">,
  schedule: (send: () => void) => void = setImmediate,
): BatchedPoster<T> {
  let outbox: T[] = [];
  let flushQueued = false;
  const flush = (): void => {
    flushQueued = false;
    if (outbox.length === 0) return;
    const batch = outbox;
    outbox = [];
    port.postMessage(batch);
  };
  return {
    post(message) {
      outbox.push(message);
      if (flushQueued) return;
      flushQueued = true;
      schedule(flush);
    },
    flush,
  };
}
