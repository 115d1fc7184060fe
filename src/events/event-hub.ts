/**
 * Who is told that a verification has new events. Only the fact travels, never the events: a listener (an SSE
 * stream) reads them from the durable log after its cursor, so live delivery and `Last-Event-ID` resume are one
 * code path and a missed notification costs latency, not an event. That makes fan-out across nodes a matter of
 * publishing ids (a Redis channel implements `EventHub` the same way); this one serves one process.
 *
 * A commit wakes only the listeners of its own verification and of its own application: one application's open
 * streams never do work for another's commits.
 */
import type { EventSink } from "../core/ports.js";

export interface EventHub extends EventSink {
  /** Calls `listener` after each commit of events of `verificationId`; returns the unsubscribe function. */
  subscribe(verificationId: string, listener: () => void): () => void;
  /** Calls `listener` after each commit of events of any verification of `applicationId`. */
  subscribeApplication(applicationId: string, listener: () => void): () => void;
  /** Calls `listener` after every commit of events (the webhook worker's wake-up). */
  onAny(listener: () => void): () => void;
}

/** Listener sets by key, dropped when empty. */
class Listeners {
  private readonly byKey = new Map<string, Set<() => void>>();

  notify(key: string): void {
    const listeners = this.byKey.get(key);
    if (listeners) for (const listener of listeners) listener();
  }

  notifyAll(): void {
    for (const listeners of this.byKey.values()) for (const listener of listeners) listener();
  }

  add(key: string, listener: () => void): () => void {
    let listeners = this.byKey.get(key);
    if (!listeners) {
      listeners = new Set();
      this.byKey.set(key, listeners);
    }
    const set = listeners;
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.byKey.get(key) === set) this.byKey.delete(key);
    };
  }
}

export class LocalEventHub implements EventHub {
  private readonly byVerification = new Listeners();
  private readonly byApplication = new Listeners();
  private readonly anyListeners = new Set<() => void>();

  committed(verificationId: string, applicationId: string): void {
    this.byVerification.notify(verificationId);
    this.byApplication.notify(applicationId);
    for (const listener of this.anyListeners) listener();
  }

  /**
   * A commit whose application is not known (a message from a node that does not send it): every application's
   * listeners read their log once, which costs reads, never an event.
   */
  committedByUnknownApplication(verificationId: string): void {
    this.byVerification.notify(verificationId);
    this.byApplication.notifyAll();
    for (const listener of this.anyListeners) listener();
  }

  subscribe(verificationId: string, listener: () => void): () => void {
    return this.byVerification.add(verificationId, listener);
  }

  subscribeApplication(applicationId: string, listener: () => void): () => void {
    return this.byApplication.add(applicationId, listener);
  }

  onAny(listener: () => void): () => void {
    this.anyListeners.add(listener);
    return () => this.anyListeners.delete(listener);
  }
}
