/**
 * The 20 ms clock of every RTP stream on a thread. Each stream keeps its own schedule (its first packet's time plus
 * 20 ms per packet, never re-based on when a packet actually left, so lateness does not accumulate); the clock
 * wakes about every millisecond while any stream is live and sends whatever is due. Streams start at their own
 * instants, so their packets spread across the 20 ms instead of leaving in one burst.
 *
 * It runs on the SIP thread: the main thread's event loop stalls for HTTP and storage work, and a stall there
 * would be heard as a gap in every call.
 */

export interface ClockedStream {
  /** Sends every packet due by `now` (performance.now ms); false once the stream has nothing more to send. */
  pump(now: number): boolean;
}

export class MediaClock {
  private readonly streams = new Set<ClockedStream>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly now: () => number = () => performance.now()) {}

  get size(): number {
    return this.streams.size;
  }

  add(stream: ClockedStream): void {
    this.streams.add(stream);
    stream.pump(this.now());
    this.arm();
  }

  remove(stream: ClockedStream): void {
    this.streams.delete(stream);
    if (this.streams.size === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  stop(): void {
    this.streams.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(): void {
    if (this.timer || this.streams.size === 0) return;
    this.timer = setTimeout(this.tick, 1);
  }

  private readonly tick = (): void => {
    this.timer = null;
    const now = this.now();
    for (const stream of this.streams) {
      if (!stream.pump(now)) this.streams.delete(stream);
    }
    this.arm();
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
