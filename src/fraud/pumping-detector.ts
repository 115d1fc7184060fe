/**
 * The pumping detector: per application, per destination prefix and per country, a sliding window of sends and of
 * successful verifications. Artificially inflated traffic sends to numbers nobody verifies, so when a key has had
 * enough sends in the window and too few of them converted, the detector trips (Vonage blocks a network below 35%
 * conversion above a minimum volume; Twilio blocks a prefix for 12 hours).
 *
 * Windows live in memory, in 12 buckets each, and forget keys that have gone quiet; a restart starts them empty
 * (the blocks they caused are stored, see RuleBook). `admit` judges and counts in one synchronous step, so
 * concurrent starts cannot all slip past the threshold together.
 */
import type { PumpingSettings } from "./settings.js";

const BUCKETS = 12;

class Window {
  private readonly sends = new Uint32Array(BUCKETS);
  private readonly verified = new Uint32Array(BUCKETS);
  private last = 0;
  totalSends = 0;
  totalVerified = 0;

  /** Moves the window to `bucket`, forgetting the buckets it passes. */
  advance(bucket: number): void {
    if (bucket <= this.last) return;
    const steps = Math.min(bucket - this.last, BUCKETS);
    for (let i = 1; i <= steps; i++) {
      const slot = (this.last + i) % BUCKETS;
      this.totalSends -= this.sends[slot] as number;
      this.totalVerified -= this.verified[slot] as number;
      this.sends[slot] = 0;
      this.verified[slot] = 0;
    }
    this.last = bucket;
  }

  add(kind: "sends" | "verified", delta: number): void {
    const slot = this.last % BUCKETS;
    const counts = kind === "sends" ? this.sends : this.verified;
    // A verification may arrive after its send's bucket has left the window; counts never go below zero.
    const next = Math.max(0, (counts[slot] as number) + delta);
    const change = next - (counts[slot] as number);
    counts[slot] = next;
    if (kind === "sends") this.totalSends += change;
    else this.totalVerified += change;
  }

  get lastBucket(): number {
    return this.last;
  }
}

export interface WindowStats {
  sends: number;
  verified: number;
  /** verified / sends, 1 when nothing was sent */
  conversion: number;
}

export interface Trip {
  scope: "prefix" | "country";
  value: string;
  stats: WindowStats;
}

/** The prefix the detector and the prefix limits count by: the number without its last 4 digits. */
export const destinationPrefix = (e164: string): string => e164.slice(0, -4);

export class PumpingDetector {
  private readonly windows = new Map<string, Window>();
  private readonly bucketMs: number;
  private lastSweep = 0;

  constructor(private readonly settings: PumpingSettings) {
    this.bucketMs = Math.max(1, Math.floor(settings.windowMs / BUCKETS));
  }

  private window(key: string, now: number, create: boolean): Window | undefined {
    const bucket = Math.floor(now / this.bucketMs);
    let w = this.windows.get(key);
    if (!w && create) {
      w = new Window();
      w.advance(bucket);
      this.windows.set(key, w);
    }
    w?.advance(bucket);
    return w;
  }

  stats(applicationId: string, scope: "prefix" | "country", value: string, now: number): WindowStats {
    const w = this.window(`${applicationId}|${scope}|${value}`, now, false);
    const sends = w?.totalSends ?? 0;
    const verified = Math.min(w?.totalVerified ?? 0, sends);
    return { sends, verified, conversion: sends === 0 ? 1 : verified / sends };
  }

  /**
   * Judges a send to `e164` before it is made: returns the trip when the prefix's or the country's window has had
   * its minimum volume with conversion below the threshold (the send is not counted); otherwise counts it.
   */
  admit(applicationId: string, e164: string, country: string, now: number): Trip | undefined {
    this.sweep(now);
    const prefix = destinationPrefix(e164);
    for (const [scope, value, min] of [
      ["prefix", prefix, this.settings.minSendsPrefix],
      ["country", country, this.settings.minSendsCountry],
    ] as const) {
      const stats = this.stats(applicationId, scope, value, now);
      if (stats.sends >= min && stats.conversion < this.settings.minConversion) return { scope, value, stats };
    }
    this.count(applicationId, prefix, country, now, "sends", 1);
    return undefined;
  }

  /** Takes back a send that `admit` counted but that did not happen (a later control refused it). */
  unadmit(applicationId: string, e164: string, country: string, now: number): void {
    this.count(applicationId, destinationPrefix(e164), country, now, "sends", -1);
  }

  verified(applicationId: string, e164: string, country: string, now: number): void {
    this.count(applicationId, destinationPrefix(e164), country, now, "verified", 1);
  }

  private count(
    applicationId: string,
    prefix: string,
    country: string,
    now: number,
    kind: "sends" | "verified",
    delta: number,
  ): void {
    this.window(`${applicationId}|prefix|${prefix}`, now, true)?.add(kind, delta);
    this.window(`${applicationId}|country|${country}`, now, true)?.add(kind, delta);
  }

  /** Starts a key's window over: an operator lifted its block, so what tripped it must not trip it again at once. */
  forget(applicationId: string, scope: "prefix" | "country", value: string): void {
    this.windows.delete(`${applicationId}|${scope}|${value}`);
  }

  /** Forgets windows with nothing in them any more, once per window length. */
  private sweep(now: number): void {
    if (now - this.lastSweep < this.settings.windowMs) return;
    this.lastSweep = now;
    const current = Math.floor(now / this.bucketMs);
    for (const [key, w] of this.windows) {
      if (current - w.lastBucket >= BUCKETS) this.windows.delete(key);
    }
  }

  /** how many keys are being watched (for tests and metrics) */
  get size(): number {
    return this.windows.size;
  }
}
