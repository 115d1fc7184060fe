/**
 * The operator's statistics over a time range: conversion, time to verify, delivery outcomes and failure reasons by
 * channel, country and trunk, cost against SMS-only, fraud outcomes, pool utilisation and webhook health. The
 * database groups and sums (OperatorStore); this file turns those rows into the report the API shows (its view,
 * src/api/stats-views.ts, spells it for the wire) and the dashboard draws. Prices are the rate card's list prices, not
 * an invoice.
 */

import type { AttemptGroupRow, OperatorStore, StatsRange } from "./operator-store.js";
import { type NumberPool, poolOdds } from "./pool.js";
import type { Clock } from "./ports.js";
import { RATE_CARD, type RateCard, smsOnlyCost } from "./rate-card.js";
import type { ChannelName, VerificationStatus } from "./types.js";

/** What the report needs to know about an application's webhook endpoints (the events module owns them). */
export interface EndpointSummary {
  id: string;
  url: string;
  enabled: boolean;
  disabledReason: string | null;
}

export interface OperatorStatsDeps {
  store: OperatorStore;
  clock: Clock;
  pools: () => readonly NumberPool[];
  endpoints: (applicationId: string) => Promise<EndpointSummary[]>;
  /** checks a flash call allows, for each pool's guess probability */
  flashcallMaxChecks: number;
  /** the fraud controls' bound on a pool's guess probability */
  maxGuessProbability: number;
  rateCard?: RateCard;
}

const usd = (amount: number) => Math.round(amount * 1e6) / 1e6;
const ratio = (part: number, whole: number) => (whole === 0 ? null : Math.round((part / whole) * 1e4) / 1e4);
const IN_FLIGHT = new Set(["dialing", "ringing", "sent"]);

/** Delivered, failed and in-flight attempts of a group, with its failure reasons and cost. */
interface Outcomes {
  attempts: number;
  delivered: number;
  failed: number;
  inFlight: number;
  cost: number;
  /** failed attempts by reason */
  failureReasons: Record<string, number>;
}

const emptyOutcomes = (): Outcomes => ({
  attempts: 0,
  delivered: 0,
  failed: 0,
  inFlight: 0,
  cost: 0,
  failureReasons: {},
});

function addOutcome(o: Outcomes, row: AttemptGroupRow): void {
  o.attempts += row.count;
  o.cost += row.cost;
  if (row.status === "delivered") o.delivered += row.count;
  else if (IN_FLIGHT.has(row.status)) o.inFlight += row.count;
  else {
    o.failed += row.count;
    const reason = row.reason ?? "unknown";
    o.failureReasons[reason] = (o.failureReasons[reason] ?? 0) + row.count;
  }
}

function groupOutcomes(rows: AttemptGroupRow[], key: (r: AttemptGroupRow) => string | null): Map<string, Outcomes> {
  const groups = new Map<string, Outcomes>();
  for (const row of rows) {
    const k = key(row);
    if (k === null) continue;
    const group = groups.get(k) ?? emptyOutcomes();
    addOutcome(group, row);
    groups.set(k, group);
  }
  return groups;
}

const finish = (o: Outcomes) => ({
  ...o,
  cost: usd(o.cost),
  deliveryRate: ratio(o.delivered, o.delivered + o.failed),
});

export class OperatorStats {
  constructor(private readonly deps: OperatorStatsDeps) {}

  /** The report for [from, to) cut into `buckets` equal buckets for the charts. */
  async report(applicationId: string, from: number, to: number, buckets: number) {
    const { store } = this.deps;
    const card = this.deps.rateCard ?? RATE_CARD;
    const range: StatsRange = { applicationId, from, to };
    const bucketMs = Math.max(1000, Math.ceil((to - from) / buckets));
    const [vBuckets, vGroups, aGroups, aBuckets, ttv, blocks, deliveries, leases, endpoints] = await Promise.all([
      store.verificationBuckets(range, bucketMs),
      store.verificationGroups(range),
      store.attemptGroups(range),
      store.attemptBuckets(range, bucketMs),
      store.timeToVerify(range, [0.5, 0.9]),
      store.blockGroups(range),
      store.deliveryGroups(range),
      store.liveLeaseCounts(this.deps.clock.now()),
      this.deps.endpoints(applicationId),
    ]);

    const byStatus: Record<VerificationStatus, number> = {
      pending: 0,
      verified: 0,
      failed: 0,
      expired: 0,
      canceled: 0,
    };
    const byCountry = new Map<string, { verifications: number; verified: number; ended: number }>();
    const riskOutcomes: Record<string, number> = {};
    let deniedByApplication = 0;
    let smsOnly = 0;
    for (const g of vGroups) {
      byStatus[g.status] += g.count;
      const c = byCountry.get(g.country) ?? { verifications: 0, verified: 0, ended: 0 };
      c.verifications += g.count;
      if (g.status === "verified") c.verified += g.count;
      if (g.status !== "pending") c.ended += g.count;
      byCountry.set(g.country, c);
      const outcome = g.riskOutcome ?? "not_assessed";
      riskOutcomes[outcome] = (riskOutcomes[outcome] ?? 0) + g.count;
      if (g.reason === "denied_by_application") deniedByApplication += g.count;
      smsOnly += g.count * smsOnlyCost(g.country, card);
    }
    const total = Object.values(byStatus).reduce((a, b) => a + b, 0);
    const ended = total - byStatus.pending;
    const cost = aGroups.reduce((sum, r) => sum + r.cost, 0);

    const countryOutcomes = groupOutcomes(aGroups, (r) => r.country);
    const series = Array.from({ length: Math.ceil((to - from) / bucketMs) }, (_, i) => ({
      start: from + i * bucketMs,
      verifications: 0,
      verified: 0,
      ended: 0,
      conversionRate: null as number | null,
      cost: 0,
      attempts: {} as Partial<Record<ChannelName, number>>,
    }));
    for (const b of vBuckets) {
      const point = series[b.bucket];
      if (!point) continue;
      point.verifications += b.count;
      if (b.status === "verified") point.verified += b.count;
      if (b.status !== "pending") point.ended += b.count;
    }
    for (const b of aBuckets) {
      const point = series[b.bucket];
      if (!point) continue;
      point.cost += b.cost;
      point.attempts[b.channel] = (point.attempts[b.channel] ?? 0) + b.count;
    }
    for (const point of series) {
      point.conversionRate = ratio(point.verified, point.ended);
      point.cost = usd(point.cost);
    }

    const poolCalls = groupOutcomes(aGroups, (r) => r.poolId);
    const health = new Map<string, Record<string, { count: number; meanLatencyMs: number | null; lastAt: number }>>();
    for (const d of deliveries) {
      const h = health.get(d.endpointId) ?? {};
      h[d.status] = { count: d.count, meanLatencyMs: d.meanLatencyMs, lastAt: d.lastAt };
      health.set(d.endpointId, h);
    }

    return {
      applicationId,
      from,
      to,
      bucketMs,
      verifications: {
        total,
        ...byStatus,
        conversionRate: ratio(byStatus.verified, ended),
      },
      timeToVerifyMs: { count: ttv.count, p50: ttv.values[0] ?? null, p90: ttv.values[1] ?? null },
      cost: {
        currency: "USD" as const,
        total: usd(cost),
        perVerification: total === 0 ? null : usd(cost / total),
        smsOnly: usd(smsOnly),
        saving: usd(smsOnly - cost),
        savingRate: ratio(smsOnly - cost, smsOnly),
      },
      byChannel: [...groupOutcomes(aGroups, (r) => r.channel)].map(([channel, o]) => ({ channel, ...finish(o) })),
      byCountry: [...byCountry]
        .map(([country, c]) => ({
          country,
          verifications: c.verifications,
          verified: c.verified,
          conversionRate: ratio(c.verified, c.ended),
          ...finish(countryOutcomes.get(country) ?? emptyOutcomes()),
        }))
        .sort((a, b) => b.verifications - a.verifications),
      byTrunk: [...groupOutcomes(aGroups, (r) => (r.channel === "flashcall" ? (r.trunkId ?? "none") : null))].map(
        ([trunk, o]) => ({ trunk, ...finish(o) }),
      ),
      series,
      fraud: {
        riskOutcomes,
        deniedByApplication,
        blocks: blocks.map((b) => ({ source: b.source, type: b.scope, shadow: b.shadow, count: b.count })),
      },
      pools: this.deps.pools().map((p) => {
        const live = leases.get(p.id) ?? 0;
        return {
          ...poolOdds(p, this.deps.flashcallMaxChecks, this.deps.maxGuessProbability),
          liveLeases: live,
          utilisation: p.size === 0 ? 0 : live / p.size,
          calls: poolCalls.get(p.id)?.attempts ?? 0,
        };
      }),
      webhooks: endpoints.map((e) => {
        const h = health.get(e.id) ?? {};
        const delivered = h.delivered?.count ?? 0;
        const failed = h.failed?.count ?? 0;
        const last = Math.max(0, ...Object.values(h).map((x) => x.lastAt));
        return {
          endpointId: e.id,
          url: e.url,
          enabled: e.enabled,
          disabledReason: e.disabledReason,
          delivered,
          failed,
          pending: h.pending?.count ?? 0,
          successRate: ratio(delivered, delivered + failed),
          meanLatencyMs: h.delivered?.meanLatencyMs == null ? null : Math.round(h.delivered.meanLatencyMs),
          lastDeliveryAt: last === 0 ? null : last,
        };
      }),
    };
  }
}

export type OperatorReport = Awaited<ReturnType<OperatorStats["report"]>>;
