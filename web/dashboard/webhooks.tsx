/** Webhook endpoints: add one (its signing secret shown once), pause or resume it, delete it. */
import { useState } from "preact/hooks";
import { api, errorText, type Json } from "./api.js";
import { time } from "./format.js";
import { SecretOnce } from "./secret-once.js";
import { useApi } from "./use-api.js";

export function WebhooksScreen() {
  const endpoints = useApi(() => api("GET", "/v1/webhook-endpoints"));
  const [url, setUrl] = useState("");
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const act = async (work: () => Promise<void>) => {
    setError(null);
    try {
      await work();
      await endpoints.reload();
    } catch (e) {
      setError(errorText(e));
    }
  };

  return (
    <>
      <h1>Webhook endpoints</h1>
      <p class="fv-muted">Delivery health per endpoint is on the overview.</p>
      {error && (
        <p role="alert" class="fv-error">
          {error}
        </p>
      )}
      {secret && <SecretOnce label="Signing secret" secret={secret} onDone={() => setSecret(null)} />}
      <section class="fv-panel">
        <table>
          <caption>Endpoints</caption>
          <thead>
            <tr>
              <th scope="col">URL</th>
              <th scope="col">Events</th>
              <th scope="col">State</th>
              <th scope="col">Created</th>
              <th scope="col">
                <span class="fv-visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(endpoints.data?.data ?? []).map((e: Json) => (
              <tr key={e.id}>
                <th scope="row" class="fv-wrap">
                  {e.url}
                </th>
                <td>{e.event_types ? e.event_types.join(", ") : "all"}</td>
                <td>{e.enabled ? "enabled" : `disabled (${e.disabled_reason})`}</td>
                <td>{time(e.created_at)}</td>
                <td>
                  <button
                    type="button"
                    onClick={() => act(() => api("PATCH", `/v1/webhook-endpoints/${e.id}`, { enabled: !e.enabled }))}
                  >
                    {e.enabled ? "Disable" : "Enable"}
                  </button>{" "}
                  <button
                    type="button"
                    onClick={() =>
                      act(async () => {
                        if (confirm(`Delete the endpoint ${e.url}?`))
                          await api("DELETE", `/v1/webhook-endpoints/${e.id}`);
                      })
                    }
                  >
                    Delete
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
              const created = await api("POST", "/v1/webhook-endpoints", { url });
              setSecret(created.secret);
              setUrl("");
            });
          }}
        >
          <label>
            URL <input type="url" required size={40} value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
          </label>
          <button type="submit">Add endpoint</button>
        </form>
      </section>
    </>
  );
}
