/** Caller-ID pools: size, use and guess probability; the operator adds pools and numbers. */
import { useState } from "preact/hooks";
import { api, errorText, type Json } from "./api.js";
import { count, odds, percent } from "./format.js";
import { useApi } from "./use-api.js";

const list = (s: string) =>
  s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);

export function PoolsScreen() {
  const pools = useApi(() => api("GET", "/v1/pools"));
  const [form, setForm] = useState({ name: "", numbers: "", code_length: "4", countries: "*" });
  const [more, setMore] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const act = async (work: () => Promise<unknown>) => {
    setError(null);
    try {
      await work();
      await pools.reload();
    } catch (e) {
      setError(errorText(e));
    }
  };

  return (
    <>
      <h1>Caller-ID pools</h1>
      <p class="fv-muted">
        Pools are shared by every application; adding pools or numbers takes a key of the operator's application.
      </p>
      {error && (
        <p role="alert" class="fv-error">
          {error}
        </p>
      )}
      {(pools.data?.data ?? []).map((p: Json) => (
        <section class="fv-panel" key={p.id} aria-labelledby={`pool-${p.id}`}>
          <h2 id={`pool-${p.id}`}>{p.name}</h2>
          <dl class="fv-facts">
            <dt>Id</dt>
            <dd>
              <code>{p.id}</code>
            </dd>
            <dt>Countries</dt>
            <dd>{p.countries.join(", ")}</dd>
            <dt>Numbers</dt>
            <dd>
              {count(p.size)} ({p.numbers.join(", ")}), {p.code_length}-digit codes
            </dd>
            <dt>In use now</dt>
            <dd>
              {count(p.live_leases)} ({percent(p.utilisation)})
            </dd>
            <dt>Guess probability</dt>
            <dd class={p.within_bound ? "" : "fv-error"}>
              {odds(p.guess_probability)}
              {p.within_bound ? " (within the bound)" : " (above the bound: starts are refused)"}
            </dd>
          </dl>
          <form
            class="fv-inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              void act(async () => {
                await api("POST", `/v1/pools/${p.id}/numbers`, { numbers: list(more[p.id] ?? "") });
                setMore({ ...more, [p.id]: "" });
              });
            }}
          >
            <label>
              Add numbers or ranges{" "}
              <input
                required
                placeholder="+4420794xxxxx"
                value={more[p.id] ?? ""}
                onInput={(e) => setMore({ ...more, [p.id]: e.currentTarget.value })}
              />
            </label>
            <button type="submit">Add</button>
          </form>
        </section>
      ))}
      <section class="fv-panel" aria-labelledby="new-pool">
        <h2 id="new-pool">New pool</h2>
        <form
          class="fv-inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            void act(() =>
              api("POST", "/v1/pools", {
                name: form.name,
                numbers: list(form.numbers),
                code_length: Number(form.code_length),
                countries: list(form.countries),
              }),
            );
          }}
        >
          <label>
            Name <input required value={form.name} onInput={(e) => setForm({ ...form, name: e.currentTarget.value })} />
          </label>
          <label>
            Numbers and ranges{" "}
            <input
              required
              placeholder="+4420794xxxxx"
              value={form.numbers}
              onInput={(e) => setForm({ ...form, numbers: e.currentTarget.value })}
            />
          </label>
          <label>
            Code digits{" "}
            <select value={form.code_length} onChange={(e) => setForm({ ...form, code_length: e.currentTarget.value })}>
              <option>4</option>
              <option>5</option>
              <option>6</option>
            </select>
          </label>
          <label>
            Countries{" "}
            <input
              required
              size={8}
              value={form.countries}
              onInput={(e) => setForm({ ...form, countries: e.currentTarget.value })}
            />
          </label>
          <button type="submit">Add pool</button>
        </form>
      </section>
    </>
  );
}
