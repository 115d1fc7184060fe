/**
 * The live feed: the application's verifications newest first, filtered, with older pages on demand. Each event
 * from the live stream reloads its verification, which moves to (or appears at) the top.
 */
import { useEffect, useState } from "preact/hooks";
import { api, errorText, followEvents, type Json } from "./api.js";
import { VerificationRow } from "./verification-row.js";

const STATUSES = ["", "pending", "verified", "failed", "expired", "canceled"];
const CHANNELS = ["", "flashcall", "sms", "whatsapp", "email"];
/** more changed verifications than this in 250 ms: read the first page again instead of each one */
const BURST = 20;

export function FeedScreen() {
  const [filters, setFilters] = useState({ status: "", channel: "", country: "" });
  const [rows, setRows] = useState<Json[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [live, setLive] = useState(false);
  const [announcement, setAnnouncement] = useState("");

  const query = (extra: Record<string, string> = {}) => {
    const params = new URLSearchParams({ limit: "50", ...extra });
    for (const [k, v] of Object.entries(filters)) if (v) params.set(k, v);
    return `/v1/verifications?${params}`;
  };
  const matches = (v: Json) =>
    (!filters.status || v.status === filters.status) &&
    (!filters.country || v.country === filters.country) &&
    (!filters.channel || v.attempts.some((a: Json) => a.channel === filters.channel));

  useEffect(() => {
    let stale = false;
    const firstPage = () =>
      api("GET", query())
        .then((page) => {
          if (stale) return;
          setRows(page.data);
          setCursor(page.next_cursor);
          setError(null);
        })
        .catch((e) => setError(errorText(e)));
    void firstPage();

    // Changed verifications are read in batches: each one again when a few changed, the first page for a burst.
    const changed = new Map<string, boolean>();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = async () => {
      timer = undefined;
      const batch = [...changed];
      changed.clear();
      if (batch.length > BURST) return firstPage();
      for (const [id, ended] of batch) {
        try {
          const v = await api("GET", `/v1/verifications/${id}`);
          if (stale) return;
          setRows((current) => {
            const others = current.filter((r) => r.id !== v.id);
            return matches(v) ? [v, ...others] : others;
          });
          if (ended) setAnnouncement(`${v.phone}: ${v.status}`);
        } catch {
          // Shown again with the verification's next event.
        }
      }
    };
    const stream = followEvents((event) => {
      // Each message is the event as webhooks carry it: `{ id, type, timestamp, data: { verification_id, ... } }`.
      const id = (event.data.data as Json)?.verification_id as string | undefined;
      // A refused start names a verification that was never created.
      if (!id || event.type === "verification.blocked") return;
      changed.set(id, (changed.get(id) ?? false) || event.type.startsWith("verification."));
      timer ??= setTimeout(flush, 250);
    }, setLive);
    return () => {
      stale = true;
      stream.close();
      if (timer) clearTimeout(timer);
    };
  }, [filters]);

  const more = async () => {
    if (!cursor) return;
    try {
      const page = await api("GET", query({ cursor }));
      setRows((current) => [...current, ...page.data]);
      setCursor(page.next_cursor);
    } catch (e) {
      setError(errorText(e));
    }
  };

  const select = (name: "status" | "channel", options: string[]) => (
    <label>
      {name === "status" ? "Status" : "Channel"}{" "}
      <select value={filters[name]} onChange={(e) => setFilters({ ...filters, [name]: e.currentTarget.value })}>
        {options.map((o) => (
          <option key={o} value={o}>
            {o || "any"}
          </option>
        ))}
      </select>
    </label>
  );

  return (
    <>
      <div class="fv-toolbar">
        <h1>Verifications</h1>
        <p class={live ? "fv-live" : "fv-muted"}>{live ? "● Live" : "Connecting…"}</p>
      </div>
      <form class="fv-filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter verifications">
        {select("status", STATUSES)}
        {select("channel", CHANNELS)}
        <label>
          Country{" "}
          <input
            size={4}
            maxLength={2}
            pattern="[A-Za-z]{2}"
            placeholder="GB"
            value={filters.country}
            onChange={(e) => setFilters({ ...filters, country: e.currentTarget.value.toUpperCase() })}
          />
        </label>
      </form>
      <p class="fv-visually-hidden" aria-live="polite">
        {announcement}
      </p>
      {error && (
        <p role="alert" class="fv-error">
          {error}
        </p>
      )}
      <section class="fv-panel">
        <table class="fv-feed">
          <caption>Newest first</caption>
          <thead>
            <tr>
              <th scope="col">Started</th>
              <th scope="col">Phone</th>
              <th scope="col">Country</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col">Time to verify</th>
              <th scope="col">Cost</th>
              <th scope="col">Saving vs SMS</th>
              <th scope="col">Risk</th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 && (
              <tr>
                <td colSpan={9} class="fv-muted">
                  No verifications yet.
                </td>
              </tr>
            )}
            {rows.map((v) => (
              <VerificationRow key={v.id} v={v} />
            ))}
          </tbody>
        </table>
        {cursor && (
          <button type="button" onClick={more}>
            Load older
          </button>
        )}
      </section>
    </>
  );
}
