/**
 * A map whose entries expire in bulk. Finished calls must keep answering retransmitted final responses for Timer D
 * (32 s) — at 5,000 calls/s that is 160,000 entries, too many for a timer each. Entries go into the newest of a few
 * generations and one timer per period drops the oldest generation, so an entry lives between `ttlMs` and
 * `ttlMs * generations / (generations - 1)`.
 *
 * The rotation uses its own unref'd setTimeout rather than the timer wheel: it is one timer per map, not per call,
 * and it lets the wheel's 10 ms interval stop as soon as the last call is over instead of ticking through Timer D.
 */
export class ExpiringMap<K, V> {
  private readonly generations: Map<K, V>[];
  private readonly periodMs: number;
  private rotation: NodeJS.Timeout | null = null;

  constructor(ttlMs: number, generationCount = 4) {
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
    if (!this.rotation) this.arm();
  }

  get(key: K): V | undefined {
    for (const g of this.generations) {
      const value = g.get(key);
      if (value !== undefined) return value;
    }
    return undefined;
  }

  clear(): void {
    if (this.rotation) clearTimeout(this.rotation);
    this.rotation = null;
    for (const g of this.generations) g.clear();
  }

  private arm(): void {
    this.rotation = setTimeout(this.rotate, this.periodMs);
    this.rotation.unref();
  }

  private readonly rotate = (): void => {
    this.rotation = null;
    this.generations.pop();
    this.generations.unshift(new Map());
    if (this.size > 0) this.arm();
  };
}
