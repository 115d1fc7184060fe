/**
 * A map whose entries expire in bulk. Finished calls must keep answering retransmitted final responses for Timer D
 * (32 s) — at 5,000 calls/s that is 160,000 entries, too many for a timer each. Entries go into the newest of a few
 * generations; one wheel timer per period drops the oldest generation, so an entry lives between `ttlMs` and
 * `ttlMs * generations / (generations - 1)`.
 */
import type { TimerHandle, TimerWheel } from "./timer-wheel.js";

export class ExpiringMap<K, V> {
  private generations: Map<K, V>[];
  private readonly periodMs: number;
  private rotation: TimerHandle | null = null;

  constructor(
    private readonly wheel: TimerWheel,
    ttlMs: number,
    generationCount = 4,
  ) {
    this.generations = Array.from({ length: generationCount }, () => new Map());
    this.periodMs = ttlMs / (generationCount - 1);
  }

  get size(): number {
    let n = 0;
    for (const g of this.generations) n += g.size;
    return n;
  }

  set(key: K, value: V): void {
    this.generations[0]!.set(key, value);
    this.rotation ??= this.wheel.schedule(this.periodMs, this.rotate);
  }

  get(key: K): V | undefined {
    for (const g of this.generations) {
      const value = g.get(key);
      if (value !== undefined) return value;
    }
    return undefined;
  }

  clear(): void {
    this.rotation?.cancel();
    this.rotation = null;
    for (const g of this.generations) g.clear();
  }

  private readonly rotate = (): void => {
    this.rotation = null;
    this.generations.pop();
    this.generations.unshift(new Map());
    if (this.size > 0) this.rotation = this.wheel.schedule(this.periodMs, this.rotate);
  };
}
