/**
 * Whether a trunk is in service. Consecutive trunk failures (see failover.ts) take it out; any call that the trunk
 * handled (whatever the destination did) resets the count. While out, the trunk gets no calls and is probed with
 * OPTIONS; the first answer puts it back. The probing itself lives with the trunk; this is the state machine.
 *
 * @example
 * const breaker = new CircuitBreaker(5);
 * breaker.failure(); // ... five times: breaker.inService === false
 * breaker.restore(); // an OPTIONS probe was answered
 */
export class CircuitBreaker {
  private failures = 0;
  private out = false;

  constructor(private readonly threshold: number) {}

  get inService(): boolean {
    return !this.out;
  }

  /** A call the trunk handled. */
  success(): void {
    if (!this.out) this.failures = 0;
  }

  /** A trunk failure. Returns true when this one took the trunk out of service. */
  failure(): boolean {
    if (this.out) return false;
    this.failures += 1;
    if (this.failures < this.threshold) return false;
    this.out = true;
    return true;
  }

  /** The probe got an answer: back in service with a clean count. */
  restore(): void {
    this.out = false;
    this.failures = 0;
  }
}
