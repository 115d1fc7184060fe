/**
 * The SQLite store's cache of recently written or read verifications, as committed. A live verification is read
 * several times within seconds of its writes (call progress, its checks); a few thousand entries cover every one in
 * flight at thousands per second, and a miss reads the database.
 *
 * A verification waiting for its reverse flash call is the exception: its caller calls when they call, often long
 * after thousands of later writes have pushed it out, and the read of a miss (a cold one: the main connection's page
 * cache is emptied by every commit of the writer's) was the largest share of the main thread's time per inbound
 * call. So such verifications stay cached while the call is awaited, up to LIVE_REVERSE of them (about 2 KB each),
 * beyond which they are cached as any other.
 */
import { awaitedReverseCall } from "../core/reverse-calls.js";
import type { Verification } from "../core/types.js";

const RECENT_VERIFICATIONS = 4096;
const LIVE_REVERSE = 32_768;

export class RecentVerifications {
  // The Map's order is the order of writes: the first key is the least recently written.
  private readonly entries = new Map<string, Verification>();
  /** verifications awaiting a reverse flash call, out of `entries`' eviction */
  private readonly awaitingCall = new Map<string, Verification>();
  private sweptAt = 0;

  get(id: string): Verification | undefined {
    return this.entries.get(id) ?? this.awaitingCall.get(id);
  }

  /** Keeps `v` as committed: read from the database, or written and its write committed. */
  remember(v: Verification): void {
    this.entries.delete(v.id);
    if (awaitsReverseCall(v) && this.roomFor(v.id)) {
      this.awaitingCall.set(v.id, v);
      return;
    }
    this.awaitingCall.delete(v.id);
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
    this.awaitingCall.delete(id);
  }

  /**
   * Whether `id` may stay among those awaiting a call. Each leaves with the write that ends its attempt (the call,
   * or the timer of its expiry); one whose timer is late is dropped once the entries are full, at most once a second.
   */
  private roomFor(id: string): boolean {
    if (this.awaitingCall.has(id) || this.awaitingCall.size < LIVE_REVERSE) return true;
    const now = Date.now();
    if (now - this.sweptAt < 1000) return false;
    this.sweptAt = now;
    for (const [key, v] of this.awaitingCall) if (!awaitsReverseCall(v, now)) this.awaitingCall.delete(key);
    return this.awaitingCall.size < LIVE_REVERSE;
  }
}

/** Waiting for its reverse flash call, as matching a call sees it (given `now`, one not expired yet). */
function awaitsReverseCall(v: Verification, now = 0): boolean {
  return awaitedReverseCall(v, now) !== undefined;
}
