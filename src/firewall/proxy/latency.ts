/**
 * The time the proxy itself adds to an INVITE (datagram or TCP chunk handed to us -> forwarded message handed to the
 * kernel), in 1-microsecond buckets up to 20 ms: cheap enough to record every INVITE at 10,000/s, exact enough for
 * a p99 under 1 ms.
 */
const BUCKETS = 20_000;

export class LatencyRecorder {
  private readonly counts = new Uint32Array(BUCKETS + 1);
  count = 0;

  record(nanoseconds: bigint): void {
    const us = Number(nanoseconds / 1000n);
    const i = us < BUCKETS ? us : BUCKETS;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.count++;
  }

  /** The `p`-th percentile in microseconds (`BUCKETS` means "at least 20 ms"). */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let i = 0; i <= BUCKETS; i++) {
      seen += this.counts[i] as number;
      if (seen >= rank) return i;
    }
    return BUCKETS;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
  }
}
