/**
 * Prometheus metrics (prom-client), served at GET /metrics: HTTP requests, what verifications and attempts did (from
 * the events each commit wrote, so the figures are exactly what the event log says), SIP final response codes,
 * trunk state, and the process's own CPU, memory and event-loop lag. Each process counts what it did itself;
 * Prometheus sums the nodes.
 *
 * What the database holds is read at each scrape (`watch`): live verifications, the outbox's lag (the oldest
 * webhook delivery not yet made), the timers' lag (the oldest due timer nobody has claimed), each pool's live
 * leases against its size, and the database connection pool. Those are the same on every node.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Clock } from "../core/ports.js";
import type { DomainEvent } from "../core/types.js";
import type { OperationalStatsSource } from "../storage/operational-stats.js";

/** What `watch` reads at each scrape. */
export interface WatchedState {
  store: OperationalStatsSource;
  /** the number pools, with their sizes */
  pools: { all: readonly { id: string; size: number }[] };
  clock: Clock;
}

const FINAL = new Set([
  "verification.verified",
  "verification.failed",
  "verification.expired",
  "verification.canceled",
]);

export class Metrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: "flashverify_http_requests_total",
    help: "HTTP requests answered, by route and status code",
    labelNames: ["method", "route", "status"] as const,
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: "flashverify_http_request_duration_seconds",
    help: "Time to answer an HTTP request, by route",
    labelNames: ["method", "route"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  private readonly started = new Counter({
    name: "flashverify_verifications_started_total",
    help: "Verifications started, by the channel of their first step",
    labelNames: ["channel"] as const,
    registers: [this.registry],
  });
  private readonly ended = new Counter({
    name: "flashverify_verifications_ended_total",
    help: "Verifications that reached a final status, by status, the channel of their last step and reason",
    labelNames: ["status", "channel", "reason"] as const,
    registers: [this.registry],
  });
  private readonly blocked = new Counter({
    name: "flashverify_verifications_blocked_total",
    help: "Verifications refused by a policy before anything was sent, by reason",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });
  private readonly fallbacks = new Counter({
    name: "flashverify_fallbacks_total",
    help: "Workflow steps that moved on, by channel left, channel taken and why",
    labelNames: ["from", "to", "reason"] as const,
    registers: [this.registry],
  });
  private readonly attempts = new Counter({
    name: "flashverify_attempts_ended_total",
    help: "Attempts that ended, by channel, outcome and reason",
    labelNames: ["channel", "outcome", "reason"] as const,
    registers: [this.registry],
  });
  private readonly sipCodes = new Counter({
    name: "flashverify_sip_final_responses_total",
    help: "Final SIP responses of flash calls, by code (none: the call ended without one)",
    labelNames: ["code"] as const,
    registers: [this.registry],
  });
  private readonly startsDropped = new Counter({
    name: "flashverify_starts_dropped_total",
    help: "Starts dropped before anything was sent: client_gone (the connection closed), queue_deadline (waited too long)",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });
  readonly dependencyUp = new Gauge({
    name: "flashverify_dependency_up",
    help: "0 while this node cannot reach the database or Redis (from the first failure to the first probe that answers)",
    labelNames: ["dependency"] as const,
    registers: [this.registry],
  });
  readonly trunksOutOfService = new Gauge({
    name: "flashverify_sip_trunk_out_of_service",
    help: "1 while a trunk's circuit breaker holds it out of service",
    labelNames: ["trunk"] as const,
    registers: [this.registry],
  });

  /** Counted by the cap that refused (process, application, verification). */
  readonly sseStreamsRefused = new Counter({
    name: "flashverify_sse_streams_refused_total",
    help: "Server-Sent Events streams refused with 429 TOO_MANY_STREAMS, by the cap that refused them",
    labelNames: ["limit"] as const,
    registers: [this.registry],
  });
  /**
   * Inbound calls to the reverse flash call's numbers, by what became of them: `verified`, `wrong_caller`,
   * `no_match`, `attestation_required`, `limited`, `untrusted_source` (not a trunk: 403), `invalid_identity`
   * (a STIR/SHAKEN Identity that did not verify), `unreadable` (no dialled number of the pool).
   */
  readonly inboundCalls = new Counter({
    name: "flashverify_inbound_calls_total",
    help: "Inbound calls to the reverse flash call's numbers, by outcome",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  readonly sseStreamsOpen = new Gauge({
    name: "flashverify_sse_streams_open",
    help: "Server-Sent Events streams this process holds open",
    registers: [this.registry],
  });

  private readonly live = this.gauge("flashverify_verifications_live", "Pending verifications not past their expiry");
  private readonly outboxPending = this.gauge(
    "flashverify_outbox_pending",
    "Webhook deliveries not yet made nor given up, to enabled endpoints",
  );
  private readonly outboxLag = this.gauge(
    "flashverify_outbox_lag_seconds",
    "Age of the oldest webhook delivery not yet made (0 when there is none)",
  );
  private readonly timerLag = this.gauge(
    "flashverify_timer_lag_seconds",
    "How late the oldest due timer (expiry, step timeout, settling a call) is, unclaimed (0 when none is due)",
  );
  private readonly poolLeased = this.gauge("flashverify_pool_leased", "Caller IDs leased to live verifications", [
    "pool",
  ]);
  private readonly poolSize = this.gauge("flashverify_pool_size", "Caller IDs in the pool", ["pool"]);
  private readonly poolUtilization = this.gauge(
    "flashverify_pool_utilization_ratio",
    "Leased caller IDs over the pool's size",
    ["pool"],
  );
  private readonly dbConnections = this.gauge(
    "flashverify_db_pool_connections",
    "Database connections by state (in_use, idle, waiting: queries waiting for one); PostgreSQL only",
    ["state"],
  );
  private readonly dbUtilization = this.gauge(
    "flashverify_db_pool_utilization_ratio",
    "Database connections in use over the pool's maximum; PostgreSQL only",
  );
  private readonly scrapeErrors = new Counter({
    name: "flashverify_metrics_database_read_errors_total",
    help: "Scrapes whose database figures could not be read (those figures are then left out)",
    registers: [this.registry],
  });
  private watched: WatchedState | undefined;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "flashverify_" });
  }

  private gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  /** Reads what the database holds at each scrape (see the header). */
  watch(state: WatchedState): void {
    this.watched = state;
  }

  /** The Prometheus text of every metric, with the database figures read now. */
  async scrape(): Promise<string> {
    await this.readDatabase();
    return this.registry.metrics();
  }

  private async readDatabase(): Promise<void> {
    if (!this.watched) return;
    const { store, pools, clock } = this.watched;
    const gauges = [
      this.live,
      this.outboxPending,
      this.outboxLag,
      this.timerLag,
      this.poolLeased,
      this.poolSize,
      this.poolUtilization,
      this.dbConnections,
      this.dbUtilization,
    ];
    for (const g of gauges) g.reset();
    const now = clock.now();
    let stats: Awaited<ReturnType<OperationalStatsSource["operationalStats"]>>;
    try {
      stats = await store.operationalStats(now);
    } catch {
      // A database that cannot answer must not take the process's own figures down with it.
      this.scrapeErrors.inc();
      return;
    }
    const age = (since: number | null) => (since === null ? 0 : Math.max(0, now - since) / 1000);
    this.live.set(stats.liveVerifications);
    this.outboxPending.set(stats.undeliveredWebhooks);
    this.outboxLag.set(age(stats.oldestUndeliveredAt));
    this.timerLag.set(age(stats.oldestDueTimerAt));
    for (const pool of pools.all) {
      const leased = stats.leasesByPool[pool.id] ?? 0;
      this.poolLeased.set({ pool: pool.id }, leased);
      this.poolSize.set({ pool: pool.id }, pool.size);
      this.poolUtilization.set({ pool: pool.id }, pool.size > 0 ? leased / pool.size : 0);
    }
    const db = stats.connections;
    if (db) {
      const inUse = db.total - db.idle;
      this.dbConnections.set({ state: "in_use" }, inUse);
      this.dbConnections.set({ state: "idle" }, db.idle);
      this.dbConnections.set({ state: "waiting" }, db.waiting);
      this.dbUtilization.set(db.max > 0 ? inUse / db.max : 0);
    }
  }

  request(method: string, route: string, status: number, seconds: number): void {
    this.requests.inc({ method, route, status: String(status) });
    this.latency.observe({ method, route }, seconds);
  }
  startDropped(reason: "client_gone" | "queue_deadline"): void {
    this.startsDropped.inc({ reason });
  }

  /** The events of one commit. */
  recorded(events: readonly DomainEvent[]): void {
    for (const e of events) {
      const data = e.data as Record<string, unknown>;
      if (e.type === "verification.started") this.started.inc({ channel: String(data.channel ?? "none") });
      else if (e.type === "verification.blocked") this.blocked.inc({ reason: String(data.reason ?? "") });
      else if (e.type === "verification.fallback") {
        this.fallbacks.inc({
          from: String(data.from_channel),
          to: String(data.to_channel),
          reason: String(data.reason),
        });
      } else if (FINAL.has(e.type)) {
        this.ended.inc({
          status: e.type.slice("verification.".length),
          channel: String(data.channel ?? "none"),
          reason: String(data.reason ?? ""),
        });
      } else if (e.type === "attempt.delivered" || e.type === "attempt.failed") {
        const outcome = e.type === "attempt.delivered" ? "delivered" : "failed";
        this.attempts.inc({ channel: String(data.channel), outcome, reason: String(data.reason ?? "") });
        if (data.channel === "flashcall" && "sip_code" in data) {
          this.sipCodes.inc({ code: data.sip_code === null ? "none" : String(data.sip_code) });
        }
      }
    }
  }
}
