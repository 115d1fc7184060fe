/**
 * A token bucket for a trunk's calls per second: `ratePerSecond` tokens a second, at most `burst` saved up. Carriers
 * count CPS over short windows, so the default burst is a tenth of a second's worth: calls go out evenly instead of
 * a second's worth at once.
 *
 * @example
 * const bucket = new TokenBucket(100, 10, performance.now.bind(performance));
 * if (bucket.take()) sendInvite(); else setTimeout(retry, bucket.msUntilToken());
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    /** Monotonic milliseconds. */
    private readonly now: () => number,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Takes one token if there is one. */
  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until `take()` can succeed (0 when it can now). */
  msUntilToken(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 1000) / this.ratePerSecond);
  }

  private refill(): void {
    const now = this.now();
    const elapsed = now - this.last;
    if (elapsed <= 0) return;
    this.last = now;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSecond) / 1000);
  }
}

/** The default burst for a CPS limit: a tenth of a second's calls, at least one. */
export function defaultBurst(maxCps: number): number {
  return Math.max(1, Math.floor(maxCps / 10));
}
