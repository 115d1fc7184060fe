/**
 * The overview: conversion, time to verify, cost against SMS-only over a chosen range, charts over time, outcomes
 * by channel, country and trunk, delivery by network, fraud outcomes, pools and webhook health; refreshed as events
 * arrive.
 */
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, followEvents, type Json } from "./api.js";
import { type Series, TimeChart } from "./chart.js";
import { DeliveryTable } from "./delivery-table.js";
import { count, duration, odds, percent, usd } from "./format.js";
import { FraudPanel, OutcomeTable, PoolTable, WebhookTable } from "./overview-tables.js";
import { useApi } from "./use-api.js";

const RANGES = [
  { label: "Last hour", ms: 3600_000, buckets: 12 },
  { label: "Last 24 hours", ms: 24 * 3600_000, buckets: 24 },
  { label: "Last 7 days", ms: 7 * 24 * 3600_000, buckets: 28 },
  { label: "Last 30 days", ms: 30 * 24 * 3600_000, buckets: 30 },
];

export function OverviewScreen() {
  const [range, setRange] = useState(1);
  const chosen = RANGES[range] ?? RANGES[1];
  const {
    data: s,
    error,
    reload,
  } = useApi(() => {
    const to = new Date(Date.now() + 1000);
    const from = new Date(to.getTime() - (chosen?.ms ?? 0));
    const q = `from=${from.toISOString()}&to=${to.toISOString()}&buckets=${chosen?.buckets}`;
    return api("GET", `/v1/stats?${q}`);
  }, [range]);

  // New events change the figures: reload, at most every 10 s. A day of 100,000 verifications costs the server about
  // 0.4 s of queries per report on SQLite (npm run bench:dashboard), time its event loop spends on nothing else.
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stream = followEvents(
      () => {
        timer ??= setTimeout(() => {
          timer = undefined;
          void reload();
        }, 10_000);
      },
      () => undefined,
    );
    return () => {
      stream.close();
      if (timer) clearTimeout(timer);
    };
  }, [reload]);

  return (
    <>
      <div class="fv-toolbar">
        <h1>Overview</h1>
        <label>
          Range{" "}
          <select value={range} onChange={(e) => setRange(Number(e.currentTarget.value))}>
            {RANGES.map((r, i) => (
              <option key={r.label} value={i}>
                {r.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      {error && (
        <p role="alert" class="fv-error">
          {error}
        </p>
      )}
      {s && <Report s={s} />}
    </>
  );
}

function Report({ s }: { s: Json }) {
  const v = s.verifications;
  const times = useMemo(() => s.series.map((p: Json) => Date.parse(p.start) / 1000), [s]);
  const volume: Series[] = useMemo(
    () => [
      { label: "Started", values: s.series.map((p: Json) => p.verifications), color: "#0b6bcb", format: count },
      { label: "Verified", values: s.series.map((p: Json) => p.verified), color: "#1b7f3b", format: count },
    ],
    [s],
  );
  const conversion: Series[] = useMemo(
    () => [
      { label: "Conversion", values: s.series.map((p: Json) => p.conversion_rate), color: "#1b7f3b", format: percent },
    ],
    [s],
  );
  const cost: Series[] = useMemo(
    () => [{ label: "Cost (USD)", values: s.series.map((p: Json) => p.cost), color: "#8a4baf", format: (x) => usd(x) }],
    [s],
  );
  return (
    <>
      <section aria-labelledby="summary-heading">
        <h2 id="summary-heading" class="fv-visually-hidden">
          Summary
        </h2>
        <dl class="fv-tiles">
          <Tile label="Verifications" value={count(v.total)} note={`${count(v.pending)} pending`} />
          <Tile label="Conversion" value={percent(v.conversion_rate)} note={`${count(v.verified)} verified of ended`} />
          <Tile
            label="Time to verify"
            value={`p50 ${duration(s.time_to_verify_ms.p50)}`}
            note={`p90 ${duration(s.time_to_verify_ms.p90)}`}
          />
          <Tile
            label="Cost per verification"
            value={usd(s.cost.per_verification)}
            note={`total ${usd(s.cost.total)}`}
          />
          <Tile
            label="Saving against SMS-only"
            value={usd(s.cost.saving)}
            note={`${percent(s.cost.saving_rate)} of ${usd(s.cost.sms_only)}`}
          />
        </dl>
      </section>
      <section aria-labelledby="charts-heading" class="fv-charts">
        <h2 id="charts-heading">Over time</h2>
        <TimeChart
          title="Verifications started and verified"
          summary={`${v.total} started, ${v.verified} verified`}
          times={times}
          series={volume}
        />
        <TimeChart
          title="Conversion"
          summary={`overall ${percent(v.conversion_rate)}`}
          times={times}
          series={conversion}
          yMax={1}
        />
        <TimeChart title="Cost" summary={`total ${usd(s.cost.total)}`} times={times} series={cost} />
      </section>
      <OutcomeTable title="Outcomes by channel" first="Channel" rows={s.by_channel} name={(r) => r.channel} />
      <OutcomeTable
        title="Outcomes by country"
        first="Country"
        rows={s.by_country}
        name={(r) => r.country}
        conversion
      />
      <OutcomeTable title="Flash calls by trunk" first="Trunk" rows={s.by_trunk} name={(r) => r.trunk} />
      {s.delivery && <DeliveryTable delivery={s.delivery} />}
      <FraudPanel fraud={s.fraud} />
      <PoolTable pools={s.pools} odds={odds} />
      <WebhookTable webhooks={s.webhooks} />
    </>
  );
}

function Tile({ label, value, note }: { label: string; value: string; note: string }) {
  return (
    <div class="fv-tile">
      <dt>{label}</dt>
      <dd>
        <span class="fv-tile-value">{value}</span>
        <span class="fv-muted">{note}</span>
      </dd>
    </div>
  );
}
