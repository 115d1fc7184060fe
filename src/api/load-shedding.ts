/**
 * Load shedding for the requests that place calls. When the event loop lags, everything on it is late: HTTP
 * answers, and worse, SIP retransmissions and CANCELs, which a carrier sees as a misbehaving trunk. Refusing new
 * verifications with 503 + Retry-After while the lag lasts keeps the calls already in flight on time; checks and
 * reads are never shed, since they are what completes the work already accepted.
 */
export class EventLoopLag {
  private lastTick = performance.now();
  private worstInWindow = 0;
  private windowStarted = this.lastTick;
  private recent = 0;
  /** the last few times the loop did not run for a while (a stopped process, a long collection): [start, end] */
  private readonly stalls: [number, number][] = [];
  private readonly timer: NodeJS.Timeout;

  /** @param maxLagMs lag above which new work is refused; 0 disables shedding */
  constructor(readonly maxLagMs: number) {
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  /** The worst lag seen over the last second or so, in milliseconds. */
  get lagMs(): number {
    return Math.max(this.recent, this.worstInWindow, performance.now() - this.lastTick - TICK_MS);
  }

  get overloaded(): boolean {
    return this.maxLagMs > 0 && this.lagMs > this.maxLagMs;
  }

  /** Forgets the lag seen so far: the synchronous work of starting up (building the app) is not overload. */
  reset(): void {
    this.lastTick = performance.now();
    this.windowStarted = this.lastTick;
    this.worstInWindow = 0;
    this.recent = 0;
  }

  close(): void {
    clearInterval(this.timer);
  }

  /**
   * How long something first seen at `seenAt` (performance.now()) may have waited unseen before it, in kernel buffers,
   * because the loop was not running: the part of a stall up to `seenAt`, when `seenAt` falls in it or just after it
   * (what waited is read in the first turn after a stall, before or after the tick that measures it).
   */
  stalledBefore(seenAt: number): number {
    // A stall still under way when the request was read: the tick that measures it has not run yet.
    let waited = seenAt > this.lastTick ? Math.max(0, seenAt - this.lastTick - TICK_MS) : 0;
    for (const [start, end] of this.stalls) {
      if (seenAt >= start && seenAt <= end + STALL_READ_MS) waited = Math.max(waited, Math.min(seenAt, end) - start);
    }
    return waited;
  }

  private tick(): void {
    const now = performance.now();
    const lag = Math.max(0, now - this.lastTick - TICK_MS);
    if (lag >= STALL_MS) {
      this.stalls.push([this.lastTick + TICK_MS, now]);
      if (this.stalls.length > 4) this.stalls.shift();
    }
    this.lastTick = now;
    this.worstInWindow = Math.max(this.worstInWindow, lag);
    if (now - this.windowStarted >= WINDOW_MS) {
      this.recent = this.worstInWindow;
      this.worstInWindow = 0;
      this.windowStarted = now;
    }
  }
}

const TICK_MS = 20;
/** A lag this long is remembered as a stall, for stalledBefore. */
const STALL_MS = 500;
/** What waited through a stall is read within this long after it ends. */
const STALL_READ_MS = 200;
const WINDOW_MS = 1000;
