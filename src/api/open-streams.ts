/**
 * The SSE streams a route holds open, ended when the app closes: a hijacked response is invisible to Fastify's
 * close, and one stream would hold a server's shutdown open for as long as its client stays. Their clients
 * reconnect with Last-Event-ID (through a load balancer, to another node) and miss nothing.
 *
 * @example
 * const streams = new OpenStreams(app);
 * const forget = streams.add(close); // in close(): forget()
 */
import type { FastifyInstance } from "fastify";

export class OpenStreams {
  private readonly closers = new Set<() => void>();

  constructor(app: FastifyInstance) {
    app.addHook("preClose", async () => {
      for (const close of [...this.closers]) close();
    });
  }

  /** Registers a stream's close(); returns what its close() calls to be forgotten. */
  add(close: () => void): () => void {
    this.closers.add(close);
    return () => this.closers.delete(close);
  }
}
