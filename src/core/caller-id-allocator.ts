/**
 * Chooses the caller ID of a flash call: a number of the pool that no live verification holds and, where the pool
 * has a choice, not the one that last called this destination. The lease itself is taken by the store in the
 * transaction that creates the verification, so two starts cannot hold one CLI; a taken one is simply passed over.
 */
import { randomInt } from "node:crypto";
import type { CodeHasher } from "./codes.js";
import type { NumberPool } from "./pool.js";
import type { Clock, Store } from "./ports.js";

const RANDOM_DRAWS = 16;
/** a nearly full pool is scanned for free numbers this far at most */
const MAX_SCAN = 1_000_000;

export interface CallerIdCandidate {
  cli: string;
  /** the keyed hash the store leases it under */
  cliKey: string;
}

export class CallerIdAllocator {
  constructor(
    private readonly deps: {
      store: Pick<Store, "lastCliKey" | "liveLeaseKeys">;
      hasher: CodeHasher;
      clock: Clock;
    },
  ) {}

  /**
   * Offers CLIs to `take` until it takes one; resolves with what it answered for that one, or undefined when the
   * pool has no free number. `take` answers `cli_taken` to be offered the next.
   */
  async allocate<T>(
    pool: NumberPool,
    phone: string,
    take: (candidate: CallerIdCandidate, lastCliKey: string | undefined) => Promise<T | "cli_taken">,
  ): Promise<T | undefined> {
    const lastCliKey = await this.deps.store.lastCliKey(phone);
    for await (const candidate of this.candidates(pool, lastCliKey)) {
      const taken = await take(candidate, lastCliKey);
      if (taken !== "cli_taken") return taken;
    }
    return undefined;
  }

  /**
   * CLIs to try, avoiding the one that last called this destination: first uniform random draws (almost always
   * enough); when they keep hitting live leases the pool is nearly full, so the free numbers are found by scanning
   * from a random offset against the set of live leases.
   */
  private async *candidates(pool: NumberPool, lastCliKey: string | undefined): AsyncGenerator<CallerIdCandidate> {
    const { hasher, store } = this.deps;
    // With a single number there is nothing to alternate with.
    const usable = (cliKey: string) => pool.size === 1 || cliKey !== lastCliKey;
    for (let draw = 0; draw < RANDOM_DRAWS; draw++) {
      const cli = pool.draw();
      const cliKey = hasher.cliKey(cli);
      if (usable(cliKey)) yield { cli, cliKey };
    }
    const leased = await store.liveLeaseKeys(pool.id, this.deps.clock.now());
    if (leased.size >= pool.size) return;
    const scan = Math.min(pool.size, MAX_SCAN);
    const offset = randomInt(pool.size);
    for (let i = 0; i < scan; i++) {
      const cli = pool.at((offset + i) % pool.size);
      const cliKey = hasher.cliKey(cli);
      if (!leased.has(cliKey) && usable(cliKey)) yield { cli, cliKey };
    }
  }
}
