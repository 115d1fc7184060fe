/** One verification in the feed: status, each attempt's channel and outcome (trunk, reason), timing and cost. */
import type { Json } from "./api.js";
import { duration, time, usd } from "./format.js";

function attemptText(a: Json): string {
  const outcome = a.reason ? a.reason.replace(/_/g, " ") : a.status;
  const where = a.trunk ? ` via ${a.trunk}` : "";
  return `${a.channel}: ${outcome}${where}`;
}

export function VerificationRow({ v }: { v: Json }) {
  const took = v.status === "verified" && v.ended_at ? Date.parse(v.ended_at) - Date.parse(v.created_at) : null;
  return (
    <tr data-verification={v.id}>
      <td data-label="Started">
        <time dateTime={v.created_at}>{time(v.created_at)}</time>
        <br />
        <code class="fv-muted" title="verification id">
          {v.id}
        </code>
      </td>
      <td data-label="Phone">{v.phone}</td>
      <td data-label="Country">{v.country}</td>
      <td data-label="Status">
        <span class={`fv-status fv-status-${v.status}`}>{v.status}</span>
        {v.reason && <span class="fv-muted"> ({v.reason.replace(/_/g, " ")})</span>}
        {v.review_number_id && (
          <span class="fv-review" title="a review number: its code is fixed and nothing was sent">
            {" "}
            review
          </span>
        )}
        {v.refusal && (
          <code class="fv-refusal" title={v.refusal.message}>
            {" "}
            {v.refusal.code}
          </code>
        )}
      </td>
      <td data-label="Attempts">
        <ol class="fv-attempts">
          {v.attempts.map((a: Json) => (
            <li key={a.id}>{attemptText(a)}</li>
          ))}
        </ol>
      </td>
      <td data-label="Time to verify">{duration(took)}</td>
      <td data-label="Cost">{usd(v.cost.total)}</td>
      <td data-label="Saving vs SMS" class={v.cost.saving < 0 ? "fv-error" : ""}>
        {usd(v.cost.saving)}
      </td>
      <td data-label="Risk">{v.risk ? `${v.risk.outcome} ${v.risk.score.toFixed(2)}` : "–"}</td>
    </tr>
  );
}
