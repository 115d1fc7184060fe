/**
 * The delivery measurement: per destination network (networks.ts), channel and trunk, a rolling window of what
 * happened to what was sent: flash calls placed and delivered (as the carrier said), verified by them, time to
 * verify, and what the phones reported (`attempt.reported`); messages sent and verified by them; and the decisions
 * of workflow auto. The channel choice (channel-choice.ts) and the trunk order read it.
 *
 * It is fed by the events of each commit, counted in this process and added to the store's counters (one row per
 * network, channel, trunk and time bucket) every `flushMs`, when the window's totals are read back. Every node adds
 * to the same rows, so each one decides by what all of them measured, a few seconds late at worst, and a restart
 * forgets only what it had not written yet.
 */
import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import type { NetworkTable } from "./networks.js";
import type { Clock } from "./ports.js";
import type { Attempt, ChannelName, DomainEvent, ReportOutcome, Verification } from "./types.js";

/** One row of counters: what happened to sends to `network` on `channel` through `trunk` in one time bucket. */
export interface DeliveryCount {
  network: string;
  /** a channel, or `auto` for workflow auto's decisions (their reason in `trunk`) */
  channel: string;
  /** the trunk of a flash call; '' for channels without trunks */
  trunk: string;
  /** start of the bucket, epoch ms */
  bucket: number;
  placed: number;
  delivered: number;
  verified: number;
  /** sum of the verified ones' time from start to verified */
  verifyMs: number;
  received: number;
  late: number;
  notReceived: number;
}

export type DeliveryTotals = Omit<DeliveryCount, "bucket">;

/** Where the counters are shared: the store (SQLite, or PostgreSQL for every node). */
export interface DeliveryCountsStore {
  /** Adds each row's counts to the stored row of its network, channel, trunk and bucket (creating it). */
  addDeliveryCounts(rows: readonly DeliveryCount[]): Promise<void>;
  /** The counts of the buckets from `since` on, summed per network, channel and trunk. */
  deliveryTotals(since: number): Promise<DeliveryTotals[]>;
  /** Removes the buckets that started before `before`. */
  pruneDeliveryCounts(before: number): Promise<void>;
}

export interface MeasureSettings {
  /** how far back the window reaches; default 1 hour */
  windowMs: number;
  /** flash calls a network (or trunk) needs in the window before it is judged; default 50 */
  minSamples: number;
  /** below this conversion (its upper confidence bound) flash calls are skipped, or a trunk passed over; default 0.3 */
  minConversion: number;
  /** the share of starts that try a network or trunk that is below the threshold all the same; default 0.05 */
  exploration: number;
  /** how often counts are written to the store and the window read back; default 1000 ms */
  flushMs: number;
}

/** Flash calls that never reached a carrier, or whose fate is unknown, say nothing of delivery. */
const NOT_PLACED = new Set(["shadow_blocked", "no_route", "no_capacity", "interrupted"]);
const BUCKETS = 12;
const Z = 1.96;

/** The Wilson score interval's upper bound (95%) of `k` successes in `n` tries: the conversion it may still be. */
export function wilsonUpper(k: number, n: number): number {
  if (n === 0) return 1;
  const p = k / n;
  const z2 = Z * Z;
  const centre = p + z2 / (2 * n);
  const spread = Z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return Math.min(1, (centre + spread) / (1 + z2 / n));
}

const empty = (network: string, channel: string, trunk: string): DeliveryTotals => ({
  network,
  channel,
  trunk,
  placed: 0,
  delivered: 0,
  verified: 0,
  verifyMs: 0,
  received: 0,
  late: 0,
  notReceived: 0,
});

const keyOf = (network: string, channel: string, trunk: string) => `${network}\u0000${channel}\u0000${trunk}`;
const COUNTS = ["placed", "delivered", "verified", "verifyMs", "received", "late", "notReceived"] as const;
type Counts = Partial<Record<(typeof COUNTS)[number], number>>;
const REPORTED: Record<ReportOutcome, keyof Counts> = {
  received: "received",
  late: "late",
  not_received: "notReceived",
};

export interface DeliveryMeasureDeps {
  store: DeliveryCountsStore;
  clock: Clock;
  networks: NetworkTable;
  settings: MeasureSettings;
  /** for exploration; default Math.random */
  random?: () => number;
  onError?: (error: unknown) => void;
}

export class DeliveryMeasure {
  /** counted here and not written yet */
  private pending = new Map<string, DeliveryCount>();
  /** the window as the store last said, all nodes' counts */
  private stored = new Map<string, DeliveryTotals>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private lastPrune = 0;
  readonly settings: MeasureSettings;
  private readonly bucketMs: number;

  constructor(private readonly deps: DeliveryMeasureDeps) {
    this.settings = deps.settings;
    this.bucketMs = Math.max(1000, Math.floor(deps.settings.windowMs / BUCKETS));
  }

  networkOf(e164: string, country: string): string {
    return this.deps.networks.of(e164, country);
  }

  /** Reads the window and then writes and reads it every `flushMs`. */
  async start(): Promise<void> {
    await this.flush();
    this.timer = setInterval(() => void this.flush(), this.settings.flushMs);
    this.timer.unref();
  }

  /** Stops the timer and writes what is left. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /** Writes the counts made since the last flush and reads the window back; one flush at a time. */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async write(): Promise<void> {
    const { store, clock } = this.deps;
    const rows = [...this.pending.values()];
    this.pending = new Map();
    try {
      if (rows.length > 0) await store.addDeliveryCounts(rows);
    } catch (error) {
      // Kept for the next flush, added to what comes in meanwhile.
      for (const row of rows) this.add(row.network, row.channel, row.trunk, row, row.bucket);
      this.deps.onError?.(error);
      return;
    }
    try {
      const now = clock.now();
      const totals = await store.deliveryTotals(this.windowStart(now));
      this.stored = new Map(totals.map((t) => [keyOf(t.network, t.channel, t.trunk), t]));
      if (now - this.lastPrune > this.settings.windowMs) {
        this.lastPrune = now;
        await store.pruneDeliveryCounts(this.windowStart(now) - this.settings.windowMs);
      }
    } catch (error) {
      this.deps.onError?.(error);
    }
  }

  private windowStart(now: number): number {
    return (Math.floor(now / this.bucketMs) - (BUCKETS - 1)) * this.bucketMs;
  }

  /** Counts what a commit says about delivery; `v` is the verification as committed. */
  observe(events: readonly DomainEvent[], v: Verification): void {
    // A review number's steps are never sent: its synthetic checks are no network's traffic.
    if (v.redaction || v.reviewNumberId || events.length === 0) return;
    const network = this.networkOf(v.phone, v.country);
    const verifyMs = (v.endedAt ?? v.updatedAt) - v.createdAt;
    const lastCall = v.attempts.findLast((a) => a.channel === "flashcall");
    const placed = (a: Attempt | undefined): a is Attempt => a !== undefined && !NOT_PLACED.has(a.reason ?? "");
    // A call whose end is in this commit counts its verification there, whichever event came first.
    const endedHere = new Set(
      events.filter((e) => e.type === "attempt.delivered" || e.type === "attempt.failed").map((e) => e.attemptId),
    );
    // A verification ends on the step that verified it; a flash call is only ever a first step.
    const byFlashcall = v.status === "verified" && v.attempts.at(-1)?.channel === "flashcall";
    for (const e of events) {
      const channel = e.data.channel as ChannelName | undefined;
      const attempt = e.attemptId === null ? undefined : v.attempts.find((a) => a.id === e.attemptId);
      switch (e.type) {
        case "attempt.dialing":
          if (channel !== "flashcall" && channel) this.add(network, channel, "", { placed: 1 });
          break;
        case "attempt.delivered":
        case "attempt.failed": {
          const delivered = e.type === "attempt.delivered" ? 1 : 0;
          if (channel !== "flashcall") {
            if (channel && delivered) this.add(network, channel, "", { delivered });
            break;
          }
          if (!placed(attempt)) break;
          const verified = byFlashcall && lastCall?.id === attempt.id ? 1 : 0;
          this.add(network, "flashcall", attempt.trunkId ?? "", {
            placed: 1,
            delivered,
            verified,
            verifyMs: verified ? verifyMs : 0,
          });
          break;
        }
        case "verification.verified":
          if (channel !== "flashcall") {
            if (channel) this.add(network, channel, "", { verified: 1, verifyMs });
          } else if (placed(lastCall) && lastCall.endedAt !== null && !endedHere.has(lastCall.id)) {
            this.add(network, "flashcall", lastCall.trunkId ?? "", { verified: 1, verifyMs });
          }
          break;
        case "attempt.reported": {
          const outcome = e.data.outcome as ReportOutcome;
          // Only a call that was placed is measured (a shadow-blocked one takes reports that count for nothing).
          if (!placed(attempt)) break;
          this.add(network, "flashcall", attempt.trunkId ?? "", { [REPORTED[outcome]]: 1 });
          // A later report of the same call replaces the earlier one's count, taken back from the bucket that
          // counted it; one that has left the window counts for nothing already.
          const replaced = e.data.replaces as ReportOutcome | undefined;
          const earlierAt = Date.parse(String(e.data.replaces_at));
          if (replaced && earlierAt >= this.windowStart(this.deps.clock.now())) {
            this.add(network, "flashcall", attempt.trunkId ?? "", { [REPORTED[replaced]]: -1 }, earlierAt);
          }
          break;
        }
      }
    }
  }

  /** Workflow auto decided for a start to `network`, for `reason`. */
  decided(network: string, reason: string): void {
    this.add(network, "auto", reason, { placed: 1 });
  }

  private add(network: string, channel: string, trunk: string, counts: Counts, at = this.deps.clock.now()): void {
    const bucket = Math.floor(at / this.bucketMs) * this.bucketMs;
    const key = `${keyOf(network, channel, trunk)}\u0000${bucket}`;
    let row = this.pending.get(key);
    if (!row) {
      row = { ...empty(network, channel, trunk), bucket };
      this.pending.set(key, row);
    }
    for (const name of COUNTS) row[name] += counts[name] ?? 0;
  }

  /** Every row of the window: what the store said plus what this process has not written yet. */
  totals(): DeliveryTotals[] {
    const all = new Map<string, DeliveryTotals>();
    for (const [key, t] of this.stored) all.set(key, { ...t });
    for (const row of this.pending.values()) {
      const key = keyOf(row.network, row.channel, row.trunk);
      const t = all.get(key) ?? empty(row.network, row.channel, row.trunk);
      for (const name of COUNTS) t[name] += row[name];
      all.set(key, t);
    }
    return [...all.values()];
  }

  /** A network's counts on one channel, its trunks added up (or one trunk's). */
  channelTotals(network: string, channel: string, trunk?: string): DeliveryTotals {
    const sum = empty(network, channel, trunk ?? "");
    const add = (t: DeliveryTotals) => {
      if (t.network !== network || t.channel !== channel || (trunk !== undefined && t.trunk !== trunk)) return;
      for (const name of COUNTS) sum[name] += t[name];
    };
    for (const t of this.stored.values()) add(t);
    for (const row of this.pending.values()) add(row);
    return sum;
  }

  /**
   * How a trunk fares for calls to `to`: a weight factor (its measured conversion, 1 until it has enough calls) and
   * whether it is failing there (below the threshold), in which case the others go first, except for the share of
   * calls that explore it.
   */
  trunkJudgement(to: string, trunk: string): { factor: number; failing: boolean } {
    const country = parsePhoneNumberFromString(to)?.country ?? "ZZ";
    const t = this.channelTotals(this.networkOf(to, country), "flashcall", trunk);
    const { minSamples, minConversion, exploration } = this.settings;
    if (t.placed < minSamples) return { factor: 1, failing: false };
    const conversion = Math.min(1, t.verified / t.placed);
    const failing = wilsonUpper(t.verified, t.placed) < minConversion && this.random() >= exploration;
    return { factor: Math.max(conversion, 0.01), failing };
  }

  random(): number {
    return (this.deps.random ?? Math.random)();
  }

  /**
   * The window per network, busiest first: flash calls (carrier outcome, conversion, its upper bound, the phones'
   * reports, time to verify), the other channels, each trunk's flash calls (failing: below the threshold over enough
   * calls) and workflow auto's decisions by reason. For `/v1/stats` and the dashboard.
   */
  report() {
    const { minSamples, minConversion, exploration, windowMs } = this.settings;
    const rate = (part: number, whole: number) => (whole === 0 ? null : Math.round((part / whole) * 1e4) / 1e4);
    const outcome = (t: DeliveryTotals) => ({
      placed: t.placed,
      delivered: t.delivered,
      verified: t.verified,
      conversion: rate(Math.min(t.verified, t.placed), t.placed),
    });
    const rows = this.totals();
    const networks = [...new Set(rows.map((r) => r.network))].map((network) => {
      const mine = rows.filter((r) => r.network === network);
      const flash = this.channelTotals(network, "flashcall");
      const decisions: Record<string, number> = {
        measured: 0,
        below_threshold: 0,
        exploration: 0,
        cheaper: 0,
        number_type: 0,
      };
      for (const r of mine.filter((r) => r.channel === "auto"))
        decisions[r.trunk] = (decisions[r.trunk] ?? 0) + r.placed;
      return {
        network,
        flashcall: {
          ...outcome(flash),
          upperBound:
            flash.placed === 0 ? null : rate(wilsonUpper(Math.min(flash.verified, flash.placed), flash.placed), 1),
          meanTimeToVerifyMs: flash.verified === 0 ? null : Math.round(flash.verifyMs / flash.verified),
          reports: { received: flash.received, late: flash.late, notReceived: flash.notReceived },
        },
        channels: mine
          .filter((r) => r.channel !== "flashcall" && r.channel !== "auto")
          .map((r) => ({ channel: r.channel, ...outcome(r) })),
        trunks: mine
          .filter((r) => r.channel === "flashcall" && r.trunk !== "")
          .map((r) => ({
            trunk: r.trunk,
            ...outcome(r),
            failing: r.placed >= minSamples && wilsonUpper(Math.min(r.verified, r.placed), r.placed) < minConversion,
          })),
        decisions,
      };
    });
    networks.sort((a, b) => b.flashcall.placed - a.flashcall.placed || a.network.localeCompare(b.network));
    return { windowMs, minSamples, minConversion, exploration, networks };
  }
}

export type DeliveryReport = ReturnType<DeliveryMeasure["report"]>;
