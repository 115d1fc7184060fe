/**
 * The trunk layer: a FlashCaller over several trunks. Each call goes to the trunks its route names, in order
 * (route-table.ts); a trunk at its limits queues the call until a deadline (trunk.ts); a trunk failure (failover.ts)
 * moves the call to the next trunk within the call's own dial budget. The record says which trunk carried the
 * call and what the trunks before it answered.
 *
 * @example
 * const router = new TrunkRouter([new Trunk(await startSipUacWorker(...), policy, performance.now.bind(performance))]);
 * const record = await router.placeCall({ to, cli, ringTimeMs: 1500, maxDialMs: 20000 }).done;
 * record.trunk; // "carrier-a"
 */
import { checkCallOptions } from "../call-options.js";
import { newCallId } from "../ids.js";
import type { CallReason, CallRecord, FlashCaller, PlaceCallOptions, PlacedCall } from "../types.js";
import { isTrunkFailure } from "./failover.js";
import { type Route, RouteTable } from "./route-table.js";
import type { Trunk, Waiter } from "./trunk.js";

/** A trunk that failed a call before another took it over. */
export interface FailedLeg {
  trunk: string;
  reason: CallReason;
  finalCode: number | null;
  reasonHeader: string | null;
}

export interface RoutedCallRecord extends CallRecord {
  /** The trunk that carried the call (the last one tried), or null when none could take it. */
  trunk: string | null;
  /** Trunks that failed the call first, in order. */
  failedOver: readonly FailedLeg[];
}

export interface RoutedCall extends PlacedCall {
  done: Promise<RoutedCallRecord>;
}

export interface TrunkRouterOptions {
  routes?: readonly Route[];
  /** Monotonic ms for dial budgets and queue deadlines. Default performance.now. */
  now?: () => number;
  /** Weighted choice within a priority. Default Math.random. */
  random?: () => number;
  /** A call whose INVITE could not be built or placed (a bug or a bad key, not a call outcome). */
  onError?: (error: unknown, trunk: string) => void;
  /**
   * How a trunk has fared for calls to a destination: its weight is multiplied by `factor`, and a `failing` trunk is
   * tried after the others of its route. Default: every trunk as configured.
   */
  judge?: (to: string, trunk: string) => { factor: number; failing: boolean };
}

export class TrunkRouter implements FlashCaller {
  private readonly trunks = new Map<string, Trunk>();
  private readonly table: RouteTable;
  readonly now: () => number;
  readonly onError: (error: unknown, trunk: string) => void;
  private active = 0;
  private closed = false;

  constructor(trunks: readonly Trunk[], options: TrunkRouterOptions = {}) {
    if (trunks.length === 0) throw new RangeError("a trunk router needs at least one trunk");
    for (const trunk of trunks) this.trunks.set(trunk.id, trunk);
    for (const route of options.routes ?? []) {
      for (const entry of route.trunks) {
        if (!this.trunks.has(entry.id)) throw new RangeError(`a route names trunk "${entry.id}", which does not exist`);
      }
    }
    this.now = options.now ?? performance.now.bind(performance);
    this.onError = options.onError ?? ((error) => process.emitWarning(`SIP trunk: ${String(error)}`));
    this.table = new RouteTable(
      options.routes ?? [],
      trunks.map((t) => t.id),
      options.random,
      options.judge,
    );
  }

  /** The first trunk's socket (each trunk has its own). */
  get local(): { address: string; port: number } {
    return (this.trunks.values().next().value as Trunk).caller.local;
  }

  get activeCalls(): number {
    return this.active;
  }

  /** Each trunk's state, for health checks and metrics. */
  status(): { id: string; inService: boolean; active: number; queued: number }[] {
    return [...this.trunks.values()].map((t) => ({
      id: t.id,
      inService: t.inService,
      active: t.active,
      queued: t.queued,
    }));
  }

  trunk(id: string): Trunk | undefined {
    return this.trunks.get(id);
  }

  placeCall(options: PlaceCallOptions): RoutedCall {
    if (this.closed) throw new Error("the trunk router is closed");
    checkCallOptions(options);
    const candidates: Trunk[] = [];
    for (const id of this.table.candidates(options.to)) candidates.push(this.trunks.get(id) as Trunk);
    this.active++;
    const call = new RoutingCall(this, options, candidates, () => this.active--);
    call.next();
    return { callId: call.callId(), done: call.done, cancel: () => call.cancel() };
  }

  /** OPTIONS to every trunk: the first answer, or null when none answered. */
  async probe(timeoutMs?: number): Promise<number | null> {
    const answers = await Promise.all([...this.trunks.values()].map((t) => t.caller.probe(timeoutMs)));
    return answers.find((a) => a !== null) ?? null;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.trunks.values()].map((t) => t.close()));
  }
}

/** One call's way through its candidate trunks. */
class RoutingCall implements Waiter {
  /** The first leg's Call-ID, or one of our own while the call waits (so there is a Call-ID at once). */
  private id: string | null = null;
  readonly done: Promise<RoutedCallRecord>;
  deadline = 0;
  gone = false;
  private resolve!: (record: RoutedCallRecord) => void;
  private readonly startedAt = Date.now();
  private readonly budgetEnd: number;
  private index = 0;
  private queuedOn: Trunk | null = null;
  private leg: PlacedCall | null = null;
  private cancelled = false;
  private last: CallRecord | null = null;
  private lastTrunk: string | null = null;
  private failedOver: FailedLeg[] | null = null;

  constructor(
    private readonly router: TrunkRouter,
    private readonly options: PlaceCallOptions,
    private readonly candidates: readonly Trunk[],
    private readonly onSettled: () => void,
  ) {
    this.budgetEnd = router.now() + options.maxDialMs;
    this.done = new Promise((resolve) => {
      this.resolve = resolve;
    });
  }

  /** Tries the remaining candidates: start on the first with room, or wait in the first queue with room. */
  next(): void {
    const now = this.router.now();
    while (this.index < this.candidates.length) {
      const trunk = this.candidates[this.index++] as Trunk;
      if (!trunk.inService) continue;
      if (trunk.tryAcquire()) {
        this.start(trunk);
        return;
      }
      this.deadline = Math.min(now + trunk.queueTimeoutMs, this.budgetEnd);
      if (this.deadline > now && trunk.wait(this)) {
        this.queuedOn = trunk;
        return;
      }
    }
    this.finish(this.last ?? this.unplaced(this.candidates.length === 0 ? "no_route" : "no_capacity"));
  }

  granted(): void {
    const trunk = this.queuedOn as Trunk;
    this.queuedOn = null;
    this.start(trunk);
  }

  expired(): void {
    this.queuedOn = null;
    this.next();
  }

  cancel(): void {
    if (this.cancelled || this.gone) return;
    this.cancelled = true;
    if (this.leg) this.leg.cancel();
    else if (this.queuedOn) this.finish(this.last ?? this.unplaced("timeout"));
    // Otherwise the INVITE is being signed: start() sees the flag.
  }

  private start(trunk: Trunk): void {
    const remaining = Math.floor(this.budgetEnd - this.router.now());
    if (this.cancelled || remaining <= 0) {
      trunk.release(null);
      this.finish(this.last ?? this.unplaced("timeout"));
      return;
    }
    // The failed trunk before this one becomes history; until now it was what the call would end with.
    if (this.last && this.lastTrunk) {
      const { reason, finalCode, reasonHeader } = this.last;
      this.failedOver ??= [];
      this.failedOver.push({ trunk: this.lastTrunk, reason, finalCode, reasonHeader });
      this.last = null;
      this.lastTrunk = null;
    }
    let options: PlaceCallOptions | Promise<PlaceCallOptions>;
    try {
      options = trunk.callOptions({ ...this.options, maxDialMs: remaining });
    } catch (error) {
      this.unusable(trunk, error);
      return;
    }
    if (options instanceof Promise) {
      options.then(
        (o) => this.place(trunk, o),
        (error: unknown) => this.unusable(trunk, error),
      );
    } else {
      this.place(trunk, options);
    }
  }

  callId(): string {
    this.id ??= newCallId();
    return this.id;
  }

  private place(trunk: Trunk, options: PlaceCallOptions): void {
    if (this.cancelled) {
      trunk.release(null);
      this.finish(this.last ?? this.unplaced("timeout"));
      return;
    }
    let leg: PlacedCall;
    try {
      leg = trunk.caller.placeCall(options);
    } catch (error) {
      this.unusable(trunk, error);
      return;
    }
    this.leg = leg;
    this.id ??= leg.callId;
    leg.done.then((record) => this.legEnded(trunk, record));
  }

  /** The INVITE could not be built or handed over on this trunk (signing failed, its worker is gone). */
  private unusable(trunk: Trunk, error: unknown): void {
    this.router.onError(error, trunk.id);
    const record = { ...this.unplaced("network_error"), trunk: trunk.id };
    trunk.release(record);
    this.failOver(trunk, record);
  }

  private legEnded(trunk: Trunk, record: CallRecord): void {
    this.leg = null;
    trunk.release(record);
    if (isTrunkFailure(record)) this.failOver(trunk, record);
    else this.finish(record, trunk.id);
  }

  private failOver(trunk: Trunk, record: CallRecord): void {
    this.last = record;
    this.lastTrunk = trunk.id;
    const more = !this.cancelled && this.index < this.candidates.length && this.router.now() < this.budgetEnd;
    if (more) this.next();
    else this.finish(record, trunk.id);
  }

  private unplaced(reason: CallReason): CallRecord {
    return {
      callId: this.callId(),
      startedAt: this.startedAt,
      ringingAt: null,
      endedAt: Date.now(),
      finalCode: null,
      reason,
      reasonHeader: null,
    };
  }

  private finish(record: CallRecord, trunk: string | null = this.lastTrunk): void {
    if (this.gone) return;
    this.gone = true;
    this.onSettled();
    // The record is ours alone (a fresh object from the UAC): extended in place, not copied, on the hot path.
    const routed = record as RoutedCallRecord;
    routed.trunk = trunk;
    routed.failedOver = this.failedOver ?? NO_FAILOVER;
    this.resolve(routed);
  }
}

const NO_FAILOVER: readonly FailedLeg[] = Object.freeze([]);
