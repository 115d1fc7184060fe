/**
 * The 20 ms clock of every RTP stream on a thread. Each stream keeps its own schedule (its first packet's time plus
 * 20 ms per packet, never re-based on when a packet actually left, so lateness does not accumulate).
 *
 * A stream's first packet waits for the least crowded millisecond of the 20 (at most 19 ms after it was added), so
 * the streams' packets spread evenly across the period. Left to when each call happened to be answered, they need
 * not: calls placed at a steady 50 per second are answered one per 20 ms, at the same instant of the period, and
 * 500 of them would then send 500 packets at once every 20 ms, the last of them leaving several milliseconds late.
 *
 * The clock wakes when the next packet is due (about every millisecond once each millisecond has a stream), not on
 * a fixed tick, so a few calls cost a few wake-ups.
 *
 * It runs on the SIP thread: the main thread's event loop stalls for HTTP and storage work, and a stall there
 * would be heard as a gap in every call.
 */

export interface ClockedStream {
  /** Sends every packet due by `now` (performance.now ms); false once the stream has nothing more to send. */
  pump(now: number): boolean;
}

/** The packet period, and the phases (whole milliseconds within it) that streams start on. */
const PERIOD_MS = 20;

export class MediaClock {
  /** Each live stream and its phase. */
  private readonly streams = new Map<ClockedStream, number>();
  /** Streams per phase. */
  private readonly load = new Uint32Array(PERIOD_MS);
  private timer: NodeJS.Timeout | null = null;
  /** The millisecond (performance.now) the armed timer is for. */
  private wakeAt = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  get size(): number {
    return this.streams.size;
  }

  /**
   * Takes `stream` onto the clock and returns the instant (performance.now ms) its first packet is due: within
   * 20 ms, on the millisecond of the period that the fewest streams send on. Its first pump comes at that instant.
   */
  add(stream: ClockedStream): number {
    const from = Math.ceil(this.now());
    let best = 0;
    for (let wait = 1; wait < PERIOD_MS; wait++) {
      if ((this.load[(from + wait) % PERIOD_MS] as number) < (this.load[(from + best) % PERIOD_MS] as number))
        best = wait;
    }
    const phase = (from + best) % PERIOD_MS;
    this.load[phase] = (this.load[phase] as number) + 1;
    this.streams.set(stream, phase);
    // The timer may be armed for a later millisecond (the next that a stream sent on): this stream's first packet,
    // due sooner, would wait for it, up to 19 ms late.
    if (this.timer && this.wakeAt > from + best) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.arm(from);
    return from + best;
  }

  remove(stream: ClockedStream): void {
    this.release(stream);
    if (this.streams.size === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  stop(): void {
    this.streams.clear();
    this.load.fill(0);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private release(stream: ClockedStream): void {
    const phase = this.streams.get(stream);
    if (phase === undefined) return;
    this.streams.delete(stream);
    this.load[phase] = (this.load[phase] as number) - 1;
  }

  /**
   * Wakes at the first millisecond from `first` on that some stream sends on. `first` is where the sends already
   * made end, not the time now: a tick that began just before a stream's millisecond and ends just after it would
   * otherwise look for the next one past it, and that stream's packet would wait out the whole period.
   */
  private arm(first: number): void {
    if (this.timer || this.streams.size === 0) return;
    let wait = 0;
    while (wait < PERIOD_MS - 1 && this.load[(first + wait) % PERIOD_MS] === 0) wait++;
    this.wakeAt = first + wait;
    this.timer = setTimeout(this.tick, Math.max(1, Math.round(this.wakeAt - this.now())));
  }

  private readonly tick = (): void => {
    this.timer = null;
    const now = this.now();
    for (const stream of this.streams.keys()) {
      if (!stream.pump(now)) this.release(stream);
    }
    this.arm(Math.floor(now) + 1);
  };
}

/** Send lateness: how long after its scheduled instant each packet left, in 0.25 ms buckets up to 50 ms. */
export const LATENESS_BUCKET_MS = 0.25;
export const LATENESS_BUCKETS = 200;

export interface SendTiming {
  packets: number;
  /** Packet counts per bucket of LATENESS_BUCKET_MS; the last bucket holds everything later. */
  lateness: number[];
  maxLateMs: number;
}

export function newSendTiming(): SendTiming {
  return { packets: 0, lateness: new Array<number>(LATENESS_BUCKETS).fill(0), maxLateMs: 0 };
}

export function recordLateness(timing: SendTiming, lateMs: number): void {
  timing.packets++;
  const late = lateMs > 0 ? lateMs : 0;
  if (late > timing.maxLateMs) timing.maxLateMs = late;
  const bucket = Math.min(LATENESS_BUCKETS - 1, Math.floor(late / LATENESS_BUCKET_MS));
  timing.lateness[bucket] = (timing.lateness[bucket] as number) + 1;
}

/** Adds `from` into `into`. */
export function mergeSendTiming(into: SendTiming, from: SendTiming): void {
  into.packets += from.packets;
  into.maxLateMs = Math.max(into.maxLateMs, from.maxLateMs);
  for (let i = 0; i < LATENESS_BUCKETS; i++) {
    into.lateness[i] = (into.lateness[i] as number) + (from.lateness[i] ?? 0);
  }
}

/** The lateness below which `q` (0..1) of the packets left, to the bucket's upper edge. */
export function latenessQuantile(timing: SendTiming, q: number): number {
  const target = Math.ceil(timing.packets * q);
  let seen = 0;
  for (let i = 0; i < LATENESS_BUCKETS; i++) {
    seen += timing.lateness[i] as number;
    if (seen >= target && target > 0) return (i + 1) * LATENESS_BUCKET_MS;
  }
  return timing.maxLateMs;
}
