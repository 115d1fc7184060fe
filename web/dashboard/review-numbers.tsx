/**
 * Review numbers: the application's numbers that verify with a fixed code or caller ID and never send anything (for
 * app-store reviewers and synthetic checks), with who added each and when; removed ones stay listed for the audit.
 */
import { useState } from "preact/hooks";
import { api, errorText, type Json } from "./api.js";
import { time } from "./format.js";
import { useApi } from "./use-api.js";

const EMPTY = { phone: "", code: "", caller_id: "", label: "" };

export function ReviewNumbersScreen() {
  const [withRemoved, setWithRemoved] = useState(false);
  const numbers = useApi(
    () => api("GET", `/v1/review-numbers${withRemoved ? "?include_removed=true" : ""}`),
    [withRemoved],
  );
  const [form, setForm] = useState(EMPTY);
  const [error, setError] = useState<string | null>(null);
  const act = async (work: () => Promise<unknown>) => {
    setError(null);
    try {
      await work();
      await numbers.reload();
    } catch (e) {
      setError(errorText(e));
    }
  };
  const rows: Json[] = numbers.data?.data ?? [];
  const field = (name: keyof typeof EMPTY) => ({
    value: form[name],
    onInput: (e: { currentTarget: HTMLInputElement }) => setForm({ ...form, [name]: e.currentTarget.value }),
  });

  return (
    <>
      <h1>Review numbers</h1>
      <p class="fv-muted">
        A start to one of these sends nothing: its step completes at once with the fixed code (or, for a flash call, the
        fixed caller ID), with no limits or risk scoring. A wrong code still fails.
      </p>
      {error && (
        <p role="alert" class="fv-error">
          {error}
        </p>
      )}
      <section class="fv-panel">
        <label>
          <input type="checkbox" checked={withRemoved} onChange={(e) => setWithRemoved(e.currentTarget.checked)} />{" "}
          Include removed ones
        </label>
        <table>
          <caption>Review numbers</caption>
          <thead>
            <tr>
              <th scope="col">Phone</th>
              <th scope="col">Code</th>
              <th scope="col">Caller ID</th>
              <th scope="col">Label</th>
              <th scope="col">Added</th>
              <th scope="col">Removed</th>
              <th scope="col">
                <span class="fv-visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 && (
              <tr>
                <td colSpan={7} class="fv-muted">
                  No review numbers: every number is verified for real.
                </td>
              </tr>
            )}
            {rows.map((r: Json) => (
              <tr key={r.id}>
                <th scope="row" data-label="Phone">
                  {r.phone}
                </th>
                <td data-label="Code">{r.code ?? "–"}</td>
                <td data-label="Caller ID">{r.caller_id ?? "–"}</td>
                <td data-label="Label">{r.label}</td>
                <td data-label="Added">
                  {time(r.created_at)} <span class="fv-muted">by {r.created_by}</span>
                </td>
                <td data-label="Removed">
                  {r.removed_at ? (
                    <>
                      {time(r.removed_at)} <span class="fv-muted">by {r.removed_by}</span>
                    </>
                  ) : (
                    "–"
                  )}
                </td>
                <td>
                  {!r.removed_at && (
                    <button type="button" onClick={() => act(() => api("DELETE", `/v1/review-numbers/${r.id}`))}>
                      Remove <span class="fv-visually-hidden">{r.phone}</span>
                    </button>
                  )}
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
              const body = Object.fromEntries(Object.entries(form).filter(([, value]) => value !== ""));
              await api("POST", "/v1/review-numbers", body);
              setForm(EMPTY);
            });
          }}
        >
          <label>
            Phone <input required maxLength={40} placeholder="+447400123456" {...field("phone")} />
          </label>
          <label>
            Code <input maxLength={10} inputMode="numeric" placeholder="246810" {...field("code")} />
          </label>
          <label>
            Caller ID <input maxLength={40} placeholder="+442071838750" {...field("caller_id")} />
          </label>
          <label>
            Label <input maxLength={200} placeholder="App Store review" {...field("label")} />
          </label>
          <button type="submit">Add review number</button>
        </form>
      </section>
    </>
  );
}
