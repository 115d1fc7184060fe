/**
 * Who is told that a verification has new events. Only the fact travels, never the events: a listener (an SSE
 * stream) reads them from the durable log after its cursor, so live delivery and `Last-Event-ID` resume are one
 * code path and a missed notification costs latency, not an event. That makes fan-out across nodes a matter of
 * publishing verification ids (a Redis channel implements `EventHub` the same way); this one serves one process.
 */
import type { EventSink } from "../core/ports.js";

export interface EventHub extends EventSink {
  /** Calls `listener` after each commit of events of `verificationId`; returns the unsubscribe function. */
  subscribe(verificationId: string, listener: () => void): () => void;
  /** Calls `listener` after every commit of events (the webhook worker's wake-up). */
  onAny(listener: () => void): () => void;
}

export class LocalEventHub implements EventHub {
  private readonly byVerification = new Map<string, Set<() => void>>();
  private readonly anyListeners = new Set<() => void>();

  committed(verificationId: string): void {
    const listeners = this.byVerification.get(verificationId);
    if (listeners) for (const listener of listeners) listener();
    for (const listener of this.anyListeners) listener();
  }

  subscribe(verificationId: string, listener: () => void): () => void {
    let listeners = this.byVerification.get(verificationId);
    if (!listeners) {
      listeners = new Set();
      this.byVerification.set(verificationId, listeners);
    }
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0) this.byVerification.delete(verificationId);
    };
  }

  onAny(listener: () => void): () => void {
    this.anyListeners.add(listener);
    return () => this.anyListeners.delete(listener);
  }
}
