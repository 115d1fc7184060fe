/**
 * The SQLite store's cache of recently written verifications, as committed. A live verification is read several
 * times within seconds of its writes (call progress, its checks); a few thousand entries cover every one in flight
 * at thousands per second, and a miss reads the database.
 */
import type { Verification } from "../core/types.js";

const RECENT_VERIFICATIONS = 4096;

export class RecentVerifications {
  // The Map's order is the order of writes: the first key is the least recently written.
  private readonly entries = new Map<string, Verification>();

  get(id: string): Verification | undefined {
    return this.entries.get(id);
  }

  /** Keeps `v` as committed; call only once its write has committed. */
  remember(v: Verification): void {
    this.entries.delete(v.id);
    this.entries.set(v.id, v);
    if (this.entries.size > RECENT_VERIFICATIONS) {
      for (const oldest of this.entries.keys()) {
        this.entries.delete(oldest);
        break;
      }
    }
  }

  /** Forgets `id`: a write refused by its version check, or a verification redacted or erased. */
  delete(id: string): void {
    this.entries.delete(id);
  }
}
