/**
 * One carrier trunk: its UAC (a FlashCaller of its own, with its transport, proxy and credentials), how it wants
 * numbers and headers written, and its limits: calls per second (token bucket), calls at once, a bounded queue for
 * the excess, and the breaker that takes it out of service and probes it back with OPTIONS.
 *
 * The router (router.ts) decides which trunk a call tries; the trunk decides whether it can start it now, later
 * (queued, until a deadline) or not at all.
 */
import type { ShakenSigner } from "../stir-shaken.js";
import type { CallRecord, FlashCaller, PlaceCallOptions } from "../types.js";
import { CircuitBreaker } from "./circuit-breaker.js";
import { isAliveAnswer, isTrunkFailure } from "./failover.js";
import { formatNumber, type NumberFormat } from "./number-format.js";
import { defaultBurst, TokenBucket } from "./token-bucket.js";

export interface TrunkPolicy {
  id: string;
  cliFormat: NumberFormat;
  techPrefix?: string | undefined;
  destinationFormat: NumberFormat;
  destinationTechPrefix?: string | undefined;
  /** Default true. */
  pAssertedIdentity: boolean;
  privacy?: string | undefined;
  /** Sent on every INVITE, after Identity and Privacy. */
  headers: ReadonlyArray<readonly [string, string]>;
  /** Signs an Identity header per INVITE when set. */
  signer?: ShakenSigner | undefined;
  maxCps?: number | undefined;
  burst?: number | undefined;
  maxConcurrent?: number | undefined;
  queueSize: number;
  queueTimeoutMs: number;
  breakerFailures: number;
  probeIntervalMs: number;
  /** The longest a 503's Retry-After may hold the trunk out of rotation, ms; 0 ignores Retry-After. */
  maxRetryAfterMs: number;
}

/** A call waiting for the trunk's limits. */
export interface Waiter {
  /** Monotonic ms after which it stops waiting here. */
  readonly deadline: number;
  /** It no longer waits (cancelled): dropped when reached. */
  readonly gone: boolean;
  /** The trunk reserved a slot for it: it must start its call (or give the slot back with `release`). */
  granted(): void;
  /** The deadline passed, or the trunk went out of service. */
  expired(): void;
}

export type TrunkEvent = { type: "out_of_service" | "back_in_service"; trunk: string };

export class Trunk {
  readonly id: string;
  /** Calls started on this trunk that have not ended. */
  active = 0;
  private readonly bucket: TokenBucket | null;
  private readonly maxConcurrent: number;
  private readonly breaker: CircuitBreaker;
  private readonly fixedHeaders: ReadonlyArray<readonly [string, string]>;
  private queue: Waiter[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Number.POSITIVE_INFINITY;
  private probeTimer: NodeJS.Timeout | null = null;
  /** A 503's Retry-After holds the trunk out of rotation until this timer fires. */
  private retryAfterTimer: NodeJS.Timeout | null = null;
  private retryAfterUntil = 0;
  private closed = false;

  constructor(
    readonly caller: FlashCaller,
    private readonly policy: TrunkPolicy,
    /** Monotonic ms (limits and deadlines). */
    private readonly now: () => number,
    private readonly onEvent: (event: TrunkEvent) => void = () => {},
  ) {
    this.id = policy.id;
    this.bucket = policy.maxCps
      ? new TokenBucket(policy.maxCps, policy.burst ?? defaultBurst(policy.maxCps), now)
      : null;
    this.maxConcurrent = policy.maxConcurrent ?? Number.POSITIVE_INFINITY;
    this.breaker = new CircuitBreaker(policy.breakerFailures);
    const headers: [string, string][] = [];
    if (policy.privacy) headers.push(["Privacy", policy.privacy]);
    headers.push(...policy.headers.map(([n, v]) => [n, v] as [string, string]));
    this.fixedHeaders = headers;
  }

  get inService(): boolean {
    return this.breaker.inService && this.retryAfterTimer === null && !this.closed;
  }

  get queued(): number {
    return this.queue.length - this.head;
  }

  get queueTimeoutMs(): number {
    return this.policy.queueTimeoutMs;
  }

  /** Reserves a slot for a call now, if the limits allow it and no earlier call is waiting. */
  tryAcquire(): boolean {
    if (this.queued > 0 || this.active >= this.maxConcurrent) return false;
    if (this.bucket && !this.bucket.take()) return false;
    this.active++;
    return true;
  }

  /** Queues a call for a slot; false when the queue is full (or the trunk is out of service). */
  wait(waiter: Waiter): boolean {
    if (!this.inService || this.queued >= this.policy.queueSize) return false;
    this.queue.push(waiter);
    this.drain();
    return true;
  }

  /**
   * A call on this trunk ended (`record`), or a reserved slot went unused (null). Counts trunk failures towards
   * the breaker and hands the slot to the next waiter.
   */
  release(record: CallRecord | null): void {
    this.active--;
    if (record) {
      if (!isTrunkFailure(record)) this.breaker.success();
      else if (this.breaker.failure()) this.takeOut();
      if (record.retryAfterMs) this.holdOut(record.retryAfterMs);
    }
    if (this.queued > 0) this.drain();
  }

  /** The options for `caller.placeCall`: numbers as the trunk writes them, its headers, a signed Identity. */
  callOptions(base: PlaceCallOptions): PlaceCallOptions | Promise<PlaceCallOptions> {
    const p = this.policy;
    const options: PlaceCallOptions = { ...base };
    if (p.cliFormat !== "e164" || p.techPrefix) options.cliUser = formatNumber(base.cli, p.cliFormat, p.techPrefix);
    if (p.destinationFormat !== "e164" || p.destinationTechPrefix) {
      options.toUser = formatNumber(base.to, p.destinationFormat, p.destinationTechPrefix);
    }
    if (!p.pAssertedIdentity) options.pAssertedIdentity = false;
    if (!p.signer) {
      if (this.fixedHeaders.length > 0) options.headers = this.fixedHeaders;
      return options;
    }
    return p.signer.identity(base.cli, base.to).then((identity) => {
      options.headers = [["Identity", identity], ...this.fixedHeaders];
      return options;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.clearTimer();
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = null;
    if (this.retryAfterTimer) clearTimeout(this.retryAfterTimer);
    this.retryAfterTimer = null;
    this.expireAll();
    await this.caller.close();
  }

  /** Grants slots to waiters in order while the limits allow; expires those past their deadline. */
  private drain(): void {
    const now = this.now();
    while (this.head < this.queue.length) {
      const waiter = this.queue[this.head] as Waiter;
      if (waiter.gone) {
        this.pop();
        continue;
      }
      if (waiter.deadline <= now) {
        this.pop();
        waiter.expired();
        continue;
      }
      if (this.active >= this.maxConcurrent) {
        this.schedule(waiter.deadline);
        return;
      }
      if (this.bucket && !this.bucket.take()) {
        this.schedule(Math.min(waiter.deadline, now + this.bucket.msUntilToken()));
        return;
      }
      this.active++;
      this.pop();
      waiter.granted();
    }
    this.clearTimer();
  }

  private pop(): void {
    this.queue[this.head] = undefined as unknown as Waiter;
    this.head++;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private schedule(at: number): void {
    if (this.timer && this.timerAt <= at) return;
    this.clearTimer();
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.timerAt = Number.POSITIVE_INFINITY;
        this.drain();
      },
      Math.max(1, Math.ceil(at - this.now())),
    );
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  /** Every waiter fails over now. */
  private expireAll(): void {
    const waiters = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    this.clearTimer();
    for (const waiter of waiters) if (!waiter.gone) waiter.expired();
  }

  private takeOut(): void {
    this.expireAll();
    this.onEvent({ type: "out_of_service", trunk: this.id });
    this.scheduleProbe();
  }

  /**
   * RFC 3261 §21.5.4: a 503 with Retry-After asks that nothing be sent to the server for that long. The trunk is out
   * of rotation for that time (at most maxRetryAfterMs, so a carrier cannot park it for a day), its queue fails over
   * now, and it comes back by itself: the carrier said when. A later Retry-After only ever extends the hold.
   */
  private holdOut(retryAfterMs: number): void {
    const ms = Math.min(retryAfterMs, this.policy.maxRetryAfterMs);
    if (ms <= 0 || this.closed) return;
    const until = this.now() + ms;
    if (this.retryAfterTimer !== null && until <= this.retryAfterUntil) return;
    const wasInService = this.inService;
    if (this.retryAfterTimer) clearTimeout(this.retryAfterTimer);
    this.retryAfterUntil = until;
    this.retryAfterTimer = setTimeout(() => {
      this.retryAfterTimer = null;
      if (this.inService) this.onEvent({ type: "back_in_service", trunk: this.id });
    }, ms);
    this.retryAfterTimer.unref();
    if (wasInService) {
      this.expireAll();
      this.onEvent({ type: "out_of_service", trunk: this.id });
    }
  }

  private scheduleProbe(): void {
    if (this.closed) return;
    this.probeTimer = setTimeout(async () => {
      this.probeTimer = null;
      const status = await this.caller.probe(Math.min(this.policy.probeIntervalMs, 5000));
      if (this.closed) return;
      if (!isAliveAnswer(status)) return this.scheduleProbe();
      this.breaker.restore();
      if (this.inService) this.onEvent({ type: "back_in_service", trunk: this.id });
    }, this.policy.probeIntervalMs);
    this.probeTimer.unref();
  }
}
