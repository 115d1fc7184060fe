/**
 * What the server did, live: the verification's events as its client token streams them (SSE), with the time
 * since the start, so a visitor sees the busy signal, the fallback and the SMS in the order they happened.
 */
import { useEffect, useState } from "preact/hooks";
import { createClient, type EventJson, type LiveEvent } from "../../sdk/src/client.js";
import type { StartedVerification } from "../../sdk/src/widget/index.js";
import { describeEvent } from "./event-text.js";

interface Line {
  id: string;
  at: number;
  text: string;
}

export function EventLog({ started }: { started: StartedVerification | null }) {
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
      {lines.length === 0 ? (
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
