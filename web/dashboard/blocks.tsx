/** The block list: numbers, prefixes and countries no send may reach (the admin's and the pumping detector's). */
import { useState } from "preact/hooks";
import { api, errorText, type Json } from "./api.js";
import { time } from "./format.js";
import { useApi } from "./use-api.js";

export function BlocksScreen() {
  const blocks = useApi(() => api("GET", "/v1/blocks"));
  const [form, setForm] = useState({ type: "number", value: "", reason: "" });
  const [error, setError] = useState<string | null>(null);
  const act = async (work: () => Promise<unknown>) => {
    setError(null);
    try {
      await work();
      await blocks.reload();
    } catch (e) {
      setError(errorText(e));
    }
  };

  return (
    <>
      <h1>Blocks</h1>
      {error && (
        <p role="alert" class="fv-error">
          {error}
        </p>
      )}
      <section class="fv-panel">
        <table>
          <caption>Active blocks</caption>
          <thead>
            <tr>
              <th scope="col">Value</th>
              <th scope="col">Type</th>
              <th scope="col">By</th>
              <th scope="col">Reason</th>
              <th scope="col">Until</th>
              <th scope="col">
                <span class="fv-visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(blocks.data?.data ?? []).length === 0 && (
              <tr>
                <td colSpan={6} class="fv-muted">
                  Nothing is blocked.
                </td>
              </tr>
            )}
            {(blocks.data?.data ?? []).map((b: Json) => (
              <tr key={b.id}>
                <th scope="row">{b.value}</th>
                <td>{b.type}</td>
                <td>
                  {b.source === "detector" ? "pumping detector" : "admin"}
                  {b.shadow ? " (shadow)" : ""}
                </td>
                <td>{b.reason}</td>
                <td>{b.expires_at ? time(b.expires_at) : "deleted"}</td>
                <td>
                  <button type="button" onClick={() => act(() => api("DELETE", `/v1/blocks/${b.id}`))}>
                    Remove <span class="fv-visually-hidden">{b.value}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <form
          class="fv-inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            void act(async () => {
              await api("POST", "/v1/blocks", {
                type: form.type,
                value: form.value,
                ...(form.reason ? { reason: form.reason } : {}),
              });
              setForm({ ...form, value: "", reason: "" });
            });
          }}
        >
          <label>
            Type{" "}
            <select value={form.type} onChange={(e) => setForm({ ...form, type: e.currentTarget.value })}>
              <option value="number">number</option>
              <option value="prefix">prefix</option>
              <option value="country">country</option>
            </select>
          </label>
          <label>
            Value{" "}
            <input
              required
              maxLength={32}
              placeholder="+447400123456"
              value={form.value}
              onInput={(e) => setForm({ ...form, value: e.currentTarget.value })}
            />
          </label>
          <label>
            Reason{" "}
            <input
              maxLength={256}
              value={form.reason}
              onInput={(e) => setForm({ ...form, reason: e.currentTarget.value })}
            />
          </label>
          <button type="submit">Block</button>
        </form>
      </section>
    </>
  );
}
