/**
 * The pools the server draws caller IDs from, loaded from the store and refreshed periodically so pools added by
 * `flashverify pool add` reach a running server. Country-specific pools are preferred over catch-all (`*`) ones.
 */
import { NumberPool } from "./pool.js";
import type { Store } from "./ports.js";
import type { PoolSource } from "./verification-service.js";

export class PoolRegistry implements PoolSource {
  private pools: NumberPool[] = [];
  /** the answer of poolsFor per country, rebuilt on refresh: every start asks */
  private byCountry = new Map<string, readonly NumberPool[]>();

  constructor(private readonly store: Store) {}

  async refresh(): Promise<void> {
    const stored = await this.store.listPools();
    this.pools = stored.map((p) => new NumberPool(p));
    this.byCountry = new Map();
  }

  get all(): readonly NumberPool[] {
    return this.pools;
  }

  poolsFor(country: string): readonly NumberPool[] {
    let pools = this.byCountry.get(country);
    if (!pools) {
      const specific = this.pools.filter((p) => !p.definition.countries.includes("*") && p.serves(country));
      const general = this.pools.filter((p) => p.definition.countries.includes("*"));
      pools = [...specific, ...general];
      this.byCountry.set(country, pools);
    }
    return pools;
  }
}
