/**
 * Read-modify-write of one verification: read it, apply a `Change`, save the result with its events under an
 * optimistic version, retried on conflict, so two concurrent checks are counted exactly once each and at most one
 * of them can verify. Within a process, work on one verification is also queued, so channel callbacks and checks
 * do not spin against each other.
 */
import type { Change } from "./change.js";
import { err, ok, type Result } from "./errors.js";
import type { Store } from "./ports.js";
import { priceEndedAttempts, type RateCard } from "./rate-card.js";
import type { Verification } from "./types.js";
import { type AttemptDeadlineMs, isFinal, nextWake, type Transition } from "./verification.js";

const MAX_CONFLICT_RETRIES = 8;

export interface UpdateOptions {
  /** who may see the verification; absent for the server's own work (timers, channel callbacks) */
  allowed?: ((v: Verification) => boolean) | undefined;
  /** write the timer row whatever the change (a fired timer is always moved on, which releases its claim) */
  rewriteTimer?: boolean | undefined;
}

export interface Updated {
  read: Verification;
  /** what was saved, when the change made a transition */
  saved: Verification | undefined;
}

export interface UpdaterDeps {
  store: Store;
  attemptDeadlineMs: AttemptDeadlineMs;
  /** a transition that ends its step: opens the next one (or fails the verification) */
  follow: (t: Transition) => Change;
  /** after a save committed: tell listeners, stop or start channel work */
  saved: (t: Transition, ended: boolean) => void;
  /** prices attempts as they end; default the shipped list prices (src/core/rate-card.ts) */
  rateCard?: RateCard | undefined;
}

export class VerificationUpdater {
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: UpdaterDeps) {}

  /**
   * Applies `change` to verification `id` and saves what it returns. A refusal is passed through, writing nothing.
   *
   * Where the store is shared by several processes the first try may start from what this process last wrote
   * (`Store.lastWritten`), so the callbacks of a call it placed (ringing, ended) cost a save but no read. Another
   * process may have written since, so that guess stands only if the save passes the store's version check; every
   * other outcome (a conflict, no change, a refusal, no access) is decided again on a fresh read.
   */
  update(id: string, change: (v: Verification) => Change, options: UpdateOptions = {}): Promise<Result<Updated>> {
    const previous = this.queues.get(id) ?? Promise.resolve();
    const run = () => this.apply(id, change, options);
    const result = previous.then(run, run);
    const tail = result.catch(() => undefined);
    this.queues.set(id, tail);
    void tail.then(() => {
      if (this.queues.get(id) === tail) this.queues.delete(id);
    });
    return result;
  }

  /** Resolves once every change queued so far has been written. */
  async settled(): Promise<void> {
    while (this.queues.size > 0) await Promise.all(this.queues.values());
  }

  private async apply(
    id: string,
    change: (v: Verification) => Change,
    { allowed, rewriteTimer = false }: UpdateOptions,
  ): Promise<Result<Updated>> {
    const { store, attemptDeadlineMs } = this.deps;
    let guessed = store.lastWritten?.(id);
    for (let i = 0; i < MAX_CONFLICT_RETRIES; i++) {
      const fresh = guessed === undefined;
      const current = guessed ?? (await store.getVerification(id));
      guessed = undefined;
      // Another application's verification, or another verification's token, looks exactly like none.
      if (!current || (allowed && !allowed(current))) {
        if (fresh) return err("VERIFICATION_NOT_FOUND");
        continue;
      }
      let next = change(current);
      if (next && !("refused" in next) && next.stepOver) next = this.deps.follow(next);
      if (!next || "refused" in next) {
        if (!fresh) continue;
        return next ? { ok: false, error: next.refused } : ok({ read: current, saved: undefined });
      }
      // An attempt's cost is known once it has ended: whether the carrier took it, whether it was delivered.
      next = { ...next, verification: priceEndedAttempts(current, next.verification, this.deps.rateCard) };
      const ended = isFinal(next.verification) && !isFinal(current);
      // The timer row is written only when it must fire sooner, or never again. A timer left earlier than needed
      // costs one harmless early firing (advanceDue re-arms it); a write per change would cost every verification.
      const wake = nextWake(next.verification, attemptDeadlineMs);
      const before = nextWake(current, attemptDeadlineMs);
      const wakeChanged = rewriteTimer || (wake === null ? before !== null : before === null || wake < before);
      const saved = await store.saveVerification(
        next.verification,
        current.version,
        next.events,
        ended,
        wakeChanged ? wake : undefined,
      );
      if (saved) {
        this.deps.saved(next, ended);
        return ok({ read: current, saved: next.verification });
      }
    }
    throw new Error(`verification ${id}: gave up after ${MAX_CONFLICT_RETRIES} conflicting updates`);
  }
}
