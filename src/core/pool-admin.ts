/**
 * The server-wide caller-ID pools as the API shows and changes them: each pool with how full it is now and its
 * guess probability; adding a pool, or numbers and ranges to one. Every change is validated as
 * `flashverify pool add` validates it (no overlaps, code length 4..6) and this process's registry is refreshed at
 * once; other server processes pick it up at their next refresh (10 s).
 */
import { err, ok, type Result } from "./errors.js";
import { newId } from "./ids.js";
import type { OperatorStore } from "./operator-store.js";
import { validatePool } from "./pool.js";
import type { PoolRegistry } from "./pool-registry.js";
import type { Clock, Store, StoredPool } from "./ports.js";

export interface PoolInput {
  name: string;
  numbers: string[];
  codeLength: number;
  countries: string[];
}

export interface PoolStatus {
  pool: StoredPool;
  size: number;
  /** caller IDs held by live verifications now */
  liveLeases: number;
  /** checks allowed / fewest codes behind a shown prefix: an attacker's odds */
  guessProbability: number;
  withinBound: boolean;
}

export interface PoolAdminDeps {
  store: Store & { readonly operator: OperatorStore };
  registry: PoolRegistry;
  clock: Clock;
  flashcallMaxChecks: number;
  maxGuessProbability: number;
  /** pools the configuration writes at every start (POOL_NUMBERS): changed there, not here */
  configured: ReadonlySet<string>;
}

export class PoolAdmin {
  constructor(private readonly deps: PoolAdminDeps) {}

  async list(): Promise<PoolStatus[]> {
    const { store, clock } = this.deps;
    const [stored, leases] = await Promise.all([store.listPools(), store.operator.liveLeaseCounts(clock.now())]);
    return stored.map((pool) => this.status(pool, leases));
  }

  async create(input: PoolInput): Promise<Result<PoolStatus>> {
    const now = this.deps.clock.now();
    const countries = input.countries.map((c) => (c === "*" ? c : c.toUpperCase()));
    return this.save({ id: newId("pool", now), ...input, countries, createdAt: now });
  }

  /** Adds numbers or ranges to a pool; the ones it already lists are left as they are. */
  async addNumbers(id: string, numbers: string[]): Promise<Result<PoolStatus>> {
    const pool = (await this.deps.store.listPools()).find((p) => p.id === id);
    if (!pool) return err("POOL_NOT_FOUND");
    if (this.deps.configured.has(id)) {
      return err("INVALID_POOL", "This pool is written from POOL_NUMBERS at every start: change it there.");
    }
    return this.save({ ...pool, numbers: [...new Set([...pool.numbers, ...numbers])] });
  }

  private async save(pool: StoredPool): Promise<Result<PoolStatus>> {
    const problem = validatePool(pool);
    if (problem) return err("INVALID_POOL", `The pool cannot be used: ${problem}.`);
    await this.deps.store.upsertPool(pool);
    await this.deps.registry.refresh();
    return ok(this.status(pool, await this.deps.store.operator.liveLeaseCounts(this.deps.clock.now())));
  }

  private status(pool: StoredPool, leases: Map<string, number>): PoolStatus {
    const loaded = this.deps.registry.all.find((p) => p.id === pool.id);
    const guess = loaded ? this.deps.flashcallMaxChecks / loaded.fewestCodesPerPrefix : 1;
    return {
      pool,
      size: loaded?.size ?? 0,
      liveLeases: leases.get(pool.id) ?? 0,
      guessProbability: guess,
      withinBound: guess <= this.deps.maxGuessProbability,
    };
  }
}
