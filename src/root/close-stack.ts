/**
 * What the server's start acquired (the database lease, the store, sockets, threads, workers), released in the
 * reverse order of acquisition: by `close()` at shutdown, and by the start itself when one of its later steps
 * throws, so a failed start leaks nothing. A step that must run before earlier resources close (settling the
 * calls in flight before the channels and the store go) is simply deferred later; `once` lets a resource be
 * registered at acquisition (for a failed start) and closed earlier by such a step.
 */
export class CloseStack {
  private readonly closers: Array<{ name: string; close: () => unknown }> = [];

  /** Registers `close` to run before everything registered so far. */
  defer(name: string, close: () => unknown): void {
    this.closers.push({ name, close });
  }

  /** Runs every closer, last registered first; a closer that fails is reported and the rest still run. */
  async close(onError: (error: unknown, name: string) => void): Promise<void> {
    for (let closer = this.closers.pop(); closer; closer = this.closers.pop()) {
      try {
        await closer.close();
      } catch (error) {
        onError(error, closer.name);
      }
    }
  }
}

/** `close` run at most once, however many closers call it. */
export function once(close: () => Promise<void> | void): () => Promise<void> {
  let done: Promise<void> | null = null;
  return () => {
    done ??= Promise.resolve().then(close);
    return done;
  };
}
