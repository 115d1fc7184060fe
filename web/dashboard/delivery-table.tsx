/**
 * Delivery per destination network over the measurement's rolling window: flash calls (what the carrier said, what
 * verified, the phones' reports), the other channels, each trunk (and whether it is passed over there), and the
 * decisions of workflow auto. What `auto` and the trunk order go by (README "Delivery reports and automatic channel
 * choice").
 */
import type { Json } from "./api.js";
import { count, duration, percent, reasons } from "./format.js";
import { Empty } from "./overview-tables.js";

export function DeliveryTable({ delivery }: { delivery: Json }) {
  const networks = delivery.networks as Json[];
  const minutes = Math.round(delivery.window_seconds / 60);
  return (
    <section class="fv-panel">
      <table>
        <caption>
          Delivery by network, last {minutes} min (flash calls below {percent(delivery.min_conversion)} over{" "}
          {count(delivery.min_samples)} calls are skipped by workflow auto)
        </caption>
        <thead>
          <tr>
            <th scope="col">Network</th>
            <th scope="col">Flash calls</th>
            <th scope="col">Carrier said delivered</th>
            <th scope="col">Verified</th>
            <th scope="col">Conversion (upper bound)</th>
            <th scope="col">Time to verify</th>
            <th scope="col">Phone reports</th>
            <th scope="col">Other channels</th>
            <th scope="col">Trunks</th>
            <th scope="col">Auto decisions</th>
          </tr>
        </thead>
        <tbody>
          {networks.length === 0 && <Empty columns={10} text="Nothing measured in the window." />}
          {networks.map((n) => (
            <tr key={n.network}>
              <th scope="row">{n.network}</th>
              <td>{count(n.flashcall.placed)}</td>
              <td>{count(n.flashcall.delivered)}</td>
              <td>{count(n.flashcall.verified)}</td>
              <td>
                {percent(n.flashcall.conversion)} ({percent(n.flashcall.upper_bound)})
              </td>
              <td>{duration(n.flashcall.mean_time_to_verify_ms)}</td>
              <td>{reasons(n.flashcall.reports)}</td>
              <td>
                {(n.channels as Json[]).map((c) => `${c.channel} ${count(c.verified)}/${count(c.placed)}`).join(", ") ||
                  "–"}
              </td>
              <td>
                {(n.trunks as Json[])
                  .map((t) => `${t.trunk} ${percent(t.conversion)}${t.failing ? " (passed over)" : ""}`)
                  .join(", ") || "–"}
              </td>
              <td>{reasons(n.decisions)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
