/**
 * Caps on open Server-Sent Events streams: per process, per application and per verification. Each open stream
 * holds a socket, buffers and a listener that reads the database when its application commits, so without a cap
 * one application's clients could take a process's memory and event loop from every other. A stream past a cap is
 * refused before it subscribes, and the refusal is counted by the cap that refused it.
 *
 * @example
 * const caps = new StreamCaps({ process: 10_000, application: 2_000, verification: 10 });
 * const place = caps.acquire("app_1", "ver_1"); // a release function, or the name of the cap that refuses
 * if (typeof place === "string") refuse(place); else onClose(place);
 */

export interface StreamCapLimits {
  /** Streams this process holds open at once. */
  process: number;
  /** Streams of one application (its event stream and its verifications' streams together). */
  application: number;
  /** Streams of one verification. */
  verification: number;
}

export type StreamCap = keyof StreamCapLimits;

export interface StreamCapObserver {
  /** A stream was refused by `cap`. */
  refused(cap: StreamCap): void;
  /** The number of open streams changed. */
  open(count: number): void;
}

export class StreamCaps {
  private total = 0;
  private readonly byApplication = new Map<string, number>();
  private readonly byVerification = new Map<string, number>();

  constructor(
    private readonly limits: StreamCapLimits,
    private readonly observer: StreamCapObserver = { refused: () => undefined, open: () => undefined },
  ) {}

  get openStreams(): number {
    return this.total;
  }

  /**
   * Takes a place for one stream of `applicationId` (and of `verificationId`, for a verification's stream). Returns
   * the function that gives it back (once; later calls do nothing), or the cap that refuses it.
   */
  acquire(applicationId: string, verificationId: string | null): (() => void) | StreamCap {
    const cap = this.refusing(applicationId, verificationId);
    if (cap) {
      this.observer.refused(cap);
      return cap;
    }
    this.total++;
    increment(this.byApplication, applicationId);
    if (verificationId !== null) increment(this.byVerification, verificationId);
    this.observer.open(this.total);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      decrement(this.byApplication, applicationId);
      if (verificationId !== null) decrement(this.byVerification, verificationId);
      this.observer.open(this.total);
    };
  }

  private refusing(applicationId: string, verificationId: string | null): StreamCap | null {
    if (this.total >= this.limits.process) return "process";
    if ((this.byApplication.get(applicationId) ?? 0) >= this.limits.application) return "application";
    if (verificationId !== null && (this.byVerification.get(verificationId) ?? 0) >= this.limits.verification) {
      return "verification";
    }
    return null;
  }
}

function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function decrement(counts: Map<string, number>, key: string): void {
  const left = (counts.get(key) ?? 1) - 1;
  if (left === 0) counts.delete(key);
  else counts.set(key, left);
}
