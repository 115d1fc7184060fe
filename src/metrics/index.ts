/**
 * Prometheus metrics (prom-client), served at GET /metrics: HTTP requests, what verifications and attempts did (from
 * the events each commit wrote, so the figures are exactly what the event log says), SIP final response codes,
 * trunk state, and the process's own CPU, memory and event-loop lag. Each process counts what it did itself;
 * Prometheus sums the nodes.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { DomainEvent } from "../core/types.js";

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
    help: "Verifications that reached a final status, by status and reason",
    labelNames: ["status", "reason"] as const,
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
  readonly trunksOutOfService = new Gauge({
    name: "flashverify_sip_trunk_out_of_service",
    help: "1 while a trunk's circuit breaker holds it out of service",
    labelNames: ["trunk"] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "flashverify_" });
  }

  request(method: string, route: string, status: number, seconds: number): void {
    this.requests.inc({ method, route, status: String(status) });
    this.latency.observe({ method, route }, seconds);
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
        this.ended.inc({ status: e.type.slice("verification.".length), reason: String(data.reason ?? "") });
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
