/**
 * What the server did, live: the verification's events as its client token streams them (SSE), with the time
 * since the start, so a visitor sees the busy signal, the fallback and the SMS in the order they happened.
 */
import { useEffect, useState } from "preact/hooks";
import { createClient, type EventJson, type LiveEvent } from "../../sdk/src/client.js";
import type { StartedVerification } from "../../sdk/src/widget/index.js";
import type { StartRefused } from "./api.js";
import { describeEvent } from "./event-text.js";

interface Line {
  id: string;
  at: number;
  text: string;
}

/**
 * A refused start, as the server answered it: the code and status, the reason, and each detail (the limit reached,
 * the risk factors and reasons of a risk block, the block that matched). The server records it as a verification
 * of its own (the dashboard lists it); the demo has only the answer.
 */
function refusalLines(refusal: StartRefused): string[] {
  const details = Object.entries(refusal.details ?? {}).map(
    ([name, value]) => `${name.replace(/_/g, " ")}: ${Array.isArray(value) ? value.join(", ") : String(value)}`,
  );
  return [`start refused: ${refusal.code} (${refusal.status})`, refusal.message, ...details];
}

export function EventLog({ started, refused }: { started: StartedVerification | null; refused?: StartRefused | null }) {
  const [lines, setLines] = useState<Line[]>([]);
  useEffect(() => {
    setLines([]);
    if (!started) return;
    const client = createClient({ baseUrl: location.origin, token: started.client_token });
    let stopped = false;
    // Events arrive twice at most (the history read and the stream overlap): one line per event id, in time order.
    const add = (events: EventJson[]) => {
      if (stopped) return;
      setLines((previous) => {
        const known = new Set(previous.map((l) => l.id));
        const added = events.flatMap((e) => {
          const text = describeEvent(e);
          return text && !known.has(e.id) ? [{ id: e.id, at: Date.parse(e.timestamp), text }] : [];
        });
        if (added.length === 0) return previous;
        return [...previous, ...added].sort((a, b) => a.at - b.at || a.id.localeCompare(b.id));
      });
    };
    const subscription = client.subscribe(started.id, (event: LiveEvent) => {
      // The stream opens with the current state, not with what happened before it connected: read that first.
      if (event.type === "state") client.events(started.id).then(add, () => {});
      else add([event.data as unknown as EventJson]);
    });
    return () => {
      stopped = true;
      subscription.close();
    };
  }, [started]);
  const start = lines[0]?.at ?? 0;

  return (
    <section class="card events-card" aria-labelledby="events-title">
      <h2 id="events-title">What the server did</h2>
      {refused && !started ? (
        <ol class="events" aria-label="Events">
          {refusalLines(refused).map((text) => (
            <li key={text}>
              <span class="event-time">+0.00 s</span> {text}
            </li>
          ))}
        </ol>
      ) : lines.length === 0 ? (
        <p class="phone-empty">Events of the verification appear here as they happen.</p>
      ) : (
        <ol class="events" aria-label="Events">
          {lines.map((line) => (
            <li key={line.id}>
              <span class="event-time">+{((line.at - start) / 1000).toFixed(2)} s</span> {line.text}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
