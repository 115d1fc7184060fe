/** The overview's tables: outcomes by channel, country and trunk; fraud; pools; webhook health. */
import type { Json } from "./api.js";
import { count, duration, percent, reasons, time, usd } from "./format.js";

export function OutcomeTable(props: {
  title: string;
  first: string;
  rows: Json[];
  name: (row: Json) => string;
  conversion?: boolean;
}) {
  return (
    <section class="fv-panel">
      <table>
        <caption>{props.title}</caption>
        <thead>
          <tr>
            <th scope="col">{props.first}</th>
            {props.conversion && <th scope="col">Conversion</th>}
            <th scope="col">Attempts</th>
            <th scope="col">Delivered</th>
            <th scope="col">Failed</th>
            <th scope="col">Delivery rate</th>
            <th scope="col">Failure reasons</th>
            <th scope="col">Cost</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.length === 0 && <Empty columns={props.conversion ? 8 : 7} />}
          {props.rows.map((r) => (
            <tr key={props.name(r)}>
              <th scope="row">{props.name(r)}</th>
              {props.conversion && <td>{percent(r.conversion_rate)}</td>}
              <td>{count(r.attempts)}</td>
              <td>{count(r.delivered)}</td>
              <td>{count(r.failed)}</td>
              <td>{percent(r.delivery_rate)}</td>
              <td>{reasons(r.failure_reasons)}</td>
              <td>{usd(r.cost)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function FraudPanel({ fraud }: { fraud: Json }) {
  const outcomes = Object.entries(fraud.risk_outcomes as Record<string, number>);
  return (
    <section class="fv-panel fv-two">
      <table>
        <caption>Risk outcomes at start</caption>
        <thead>
          <tr>
            <th scope="col">Outcome</th>
            <th scope="col">Verifications</th>
          </tr>
        </thead>
        <tbody>
          {outcomes.length === 0 && <Empty columns={2} />}
          {outcomes.map(([outcome, n]) => (
            <tr key={outcome}>
              <th scope="row">{outcome.replace(/_/g, " ")}</th>
              <td>{count(n)}</td>
            </tr>
          ))}
          <tr>
            <th scope="row">denied by decision callback</th>
            <td>{count(fraud.denied_by_application)}</td>
          </tr>
        </tbody>
      </table>
      <table>
        <caption>Blocks made in this range</caption>
        <thead>
          <tr>
            <th scope="col">By</th>
            <th scope="col">Type</th>
            <th scope="col">Entries</th>
          </tr>
        </thead>
        <tbody>
          {fraud.blocks.length === 0 && <Empty columns={3} />}
          {fraud.blocks.map((b: Json) => (
            <tr key={`${b.source}-${b.type}-${b.shadow}`}>
              <th scope="row">{b.source === "detector" ? "pumping detector" : "admin"}</th>
              <td>
                {b.type}
                {b.shadow ? " (shadow)" : ""}
              </td>
              <td>{count(b.count)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function PoolTable({ pools, odds }: { pools: Json[]; odds: (p: number) => string }) {
  return (
    <section class="fv-panel">
      <table>
        <caption>Caller-ID pools</caption>
        <thead>
          <tr>
            <th scope="col">Pool</th>
            <th scope="col">Countries</th>
            <th scope="col">Numbers</th>
            <th scope="col">In use now</th>
            <th scope="col">Utilisation</th>
            <th scope="col">Calls in range</th>
            <th scope="col">Guess probability</th>
          </tr>
        </thead>
        <tbody>
          {pools.length === 0 && <Empty columns={7} />}
          {pools.map((p) => (
            <tr key={p.id}>
              <th scope="row">{p.name}</th>
              <td>{p.countries.join(", ")}</td>
              <td>{count(p.size)}</td>
              <td>{count(p.live_leases)}</td>
              <td>
                <meter min={0} max={1} value={p.utilisation} aria-label={`${p.name} utilisation`} />{" "}
                {percent(p.utilisation)}
              </td>
              <td>{count(p.calls)}</td>
              <td class={p.within_bound ? "" : "fv-error"}>
                {odds(p.guess_probability)}
                {p.within_bound ? "" : " (above the bound)"}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function WebhookTable({ webhooks }: { webhooks: Json[] }) {
  return (
    <section class="fv-panel">
      <table>
        <caption>Webhook endpoint health</caption>
        <thead>
          <tr>
            <th scope="col">Endpoint</th>
            <th scope="col">State</th>
            <th scope="col">Delivered</th>
            <th scope="col">Failed</th>
            <th scope="col">Pending</th>
            <th scope="col">Success rate</th>
            <th scope="col">Mean latency</th>
            <th scope="col">Last delivery</th>
          </tr>
        </thead>
        <tbody>
          {webhooks.length === 0 && <Empty columns={8} text="No webhook endpoints." />}
          {webhooks.map((w) => (
            <tr key={w.endpoint_id}>
              <th scope="row" class="fv-wrap">
                {w.url}
              </th>
              <td>{w.enabled ? "enabled" : `disabled (${w.disabled_reason ?? "?"})`}</td>
              <td>{count(w.delivered)}</td>
              <td>{count(w.failed)}</td>
              <td>{count(w.pending)}</td>
              <td>{percent(w.success_rate)}</td>
              <td>{duration(w.mean_latency_ms)}</td>
              <td>{time(w.last_delivery_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function Empty({ columns, text = "Nothing in this range." }: { columns: number; text?: string }) {
  return (
    <tr>
      <td colSpan={columns} class="fv-muted">
        {text}
      </td>
    </tr>
  );
}
