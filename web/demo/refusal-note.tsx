/**
 * Why the server refused to start a verification: its error code, message and details as the API answered them,
 * for the visitor trying the demo. The widget shows the sentence an end user would see; this is the integrator's
 * view of the same answer.
 */
import type { StartRefused } from "./api.js";

const detailText = (value: unknown): string => (Array.isArray(value) ? value.join(", ") : String(value));

export function RefusalNote({ refusal }: { refusal: StartRefused }) {
  const details = Object.entries(refusal.details ?? {});
  return (
    <section class="refusal" aria-labelledby="refusal-title">
      <h3 id="refusal-title">
        Refused: <code>{refusal.code}</code> ({refusal.status})
      </h3>
      <p>{refusal.message}</p>
      {details.length > 0 && (
        <dl class="refusal-details">
          {details.map(([name, value]) => (
            <div key={name}>
              <dt>{name.replace(/_/g, " ")}</dt>
              <dd>{detailText(value)}</dd>
            </div>
          ))}
        </dl>
      )}
    </section>
  );
}
