/**
 * One hashed timer wheel for every SIP transaction in the process part that owns it.
 *
 * A flash-call server keeps several timers per call (retransmission, Timer B, ring time, dial deadline) and runs
 * thousands of calls per second. A `setTimeout` each would mean tens of thousands of libuv timers; instead all
 * timers share buckets of `tickMs` and one unref'd interval that exists only while timers are pending, so an idle
 * wheel costs nothing and never keeps the process alive. Timers fire at or after their due time, never before,
 * with at most one tick of lateness. Cancelling removes the timer from its bucket at once, so a cancelled timer
 * (most of them: Timer B, dial deadlines) does not hold its call in memory until the wheel comes round.
 */

/** A scheduled callback; `cancel()` is idempotent and safe after firing. */
export interface TimerHandle {
  cancel(): void;
}

export interface TimerWheelOptions {
  /** Resolution in ms. Default 10. */
  tickMs?: number;
  /** Number of buckets, rounded up to a power of two. Default 1024 (10.24 s per turn at 10 ms). */
  slots?: number;
  /** Monotonic clock in ms. Default `performance.now`. */
  clock?: () => number;
  /** When true no interval is started and the owner calls `advance()` (tests drive a fake clock this way). */
  manual?: boolean;
}

class Timer implements TimerHandle {
  done = false;
  /** Bucket index, or -1 once taken out of its bucket to fire. */
  slot: number;
  /** Index inside the bucket, so cancel() is an O(1) swap-remove. */
  pos = 0;
  constructor(
    readonly wheel: TimerWheel,
    readonly dueTick: number,
    readonly fn: () => void,
    slot: number,
  ) {
    this.slot = slot;
  }

  cancel(): void {
    if (this.done) return;
    this.done = true;
    this.wheel.remove(this);
  }
}

export class TimerWheel {
  private readonly tickMs: number;
  private readonly mask: number;
  private readonly clock: () => number;
  private readonly manual: boolean;
  private readonly buckets: Timer[][];
  /** Bumped by stop(), so an advance() in progress stops firing. */
  private epoch = 0;
  /** Last tick whose bucket has been processed. */
  private cursor: number;
  private pending = 0;
  private interval: NodeJS.Timeout | null = null;

  constructor(options: TimerWheelOptions = {}) {
    this.tickMs = options.tickMs ?? 10;
    let slots = 1;
    while (slots < (options.slots ?? 1024)) slots *= 2;
    this.mask = slots - 1;
    this.clock = options.clock ?? (() => performance.now());
    this.manual = options.manual ?? false;
    this.buckets = Array.from({ length: slots }, () => []);
    this.cursor = this.currentTick();
  }

  /** Timers scheduled and neither fired nor cancelled. */
  get size(): number {
    return this.pending;
  }

  /**
   * Runs `fn` once, `delayMs` from now (rounded up to the next tick).
   * @example const t = wheel.schedule(500, () => retransmit()); t.cancel();
   */
  schedule(delayMs: number, fn: () => void): TimerHandle {
    let dueTick = Math.ceil((this.clock() + delayMs) / this.tickMs);
    if (dueTick <= this.cursor) dueTick = this.cursor + 1;
    const slot = dueTick & this.mask;
    const timer = new Timer(this, dueTick, fn, slot);
    const bucket = this.buckets[slot]!;
    timer.pos = bucket.length;
    bucket.push(timer);
    if (this.pending++ === 0) this.start();
    return timer;
  }

  /** Fires every timer that is due by the clock's current time. Called by the interval, or by tests. */
  advance(): void {
    const nowTick = this.currentTick();
    // After a stall longer than one turn every bucket holds due timers: visit each once.
    const steps = Math.min(nowTick - this.cursor, this.mask + 1);
    const first = this.cursor + 1;
    const epoch = this.epoch;
    this.cursor = nowTick;
    for (let i = 0; i < steps && this.pending > 0; i++) {
      const bucket = this.buckets[(first + i) & this.mask]!;
      if (bucket.length === 0) continue;
      // Take the due timers out first: their callbacks may cancel or schedule timers in this very bucket.
      let due: Timer[] | null = null;
      let kept = 0;
      for (const timer of bucket) {
        if (timer.dueTick <= nowTick) {
          timer.slot = -1;
          due ??= [];
          due.push(timer);
        } else {
          timer.pos = kept;
          bucket[kept++] = timer;
        }
      }
      bucket.length = kept;
      if (!due) continue;
      for (const timer of due) {
        if (this.epoch !== epoch) return;
        if (timer.done) continue; // cancelled by an earlier callback
        timer.done = true;
        this.released();
        timer.fn();
      }
    }
  }

  /** Cancels every pending timer and stops the interval. */
  stop(): void {
    for (const bucket of this.buckets) {
      for (const timer of bucket) timer.done = true;
      bucket.length = 0;
    }
    this.pending = 0;
    this.epoch++;
    this.halt();
  }

  /** @internal a timer was cancelled */
  remove(timer: Timer): void {
    if (timer.slot >= 0) {
      const bucket = this.buckets[timer.slot]!;
      const last = bucket.pop()!;
      if (last !== timer) {
        bucket[timer.pos] = last;
        last.pos = timer.pos;
      }
    }
    this.released();
  }

  private released(): void {
    if (--this.pending === 0) this.halt();
  }

  private currentTick(): number {
    return Math.floor(this.clock() / this.tickMs);
  }

  private start(): void {
    if (this.manual || this.interval) return;
    // Nothing was pending while idle, so the ticks missed meanwhile have nothing to fire.
    this.cursor = Math.max(this.cursor, this.currentTick() - 1);
    this.interval = setInterval(() => this.advance(), this.tickMs);
    this.interval.unref();
  }

  private halt(): void {
    if (!this.interval) return;
    clearInterval(this.interval);
    this.interval = null;
  }
}
