/** Applications and API keys: the application's keys (create, shown once; revoke) and, for the operator, applications. */
import { useState } from "preact/hooks";
import { api, errorText, type Json } from "./api.js";
import { time } from "./format.js";
import { SecretOnce } from "./secret-once.js";
import { useApi } from "./use-api.js";

export function KeysScreen() {
  const keys = useApi(() => api("GET", "/v1/api-keys"));
  const apps = useApi(() => api("GET", "/v1/applications"));
  const [label, setLabel] = useState("");
  const [appName, setAppName] = useState("");
  const [secret, setSecret] = useState<{ label: string; key: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const operator = (apps.data?.data as Json[] | undefined)?.some((a) => a.operator) ?? false;

  const act = async (work: () => Promise<void>) => {
    setError(null);
    try {
      await work();
    } catch (e) {
      setError(errorText(e));
    }
  };

  return (
    <>
      <h1>Applications and keys</h1>
      {error && (
        <p role="alert" class="fv-error">
          {error}
        </p>
      )}
      {secret && <SecretOnce label={secret.label} secret={secret.key} onDone={() => setSecret(null)} />}
      <section class="fv-panel">
        <table>
          <caption>API keys of this application</caption>
          <thead>
            <tr>
              <th scope="col">Label</th>
              <th scope="col">Id</th>
              <th scope="col">Created</th>
              <th scope="col">State</th>
              <th scope="col">
                <span class="fv-visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(keys.data?.data ?? []).map((k: Json) => (
              <tr key={k.id}>
                <th scope="row">{k.label}</th>
                <td>
                  <code>{k.id}</code>
                </td>
                <td>{time(k.created_at)}</td>
                <td>{k.revoked_at ? `revoked ${time(k.revoked_at)}` : "works"}</td>
                <td>
                  {!k.revoked_at && (
                    <button
                      type="button"
                      onClick={() =>
                        act(async () => {
                          if (!confirm(`Revoke the key "${k.label}"? Backends using it stop working.`)) return;
                          await api("DELETE", `/v1/api-keys/${k.id}`);
                          await keys.reload();
                        })
                      }
                    >
                      Revoke <span class="fv-visually-hidden">{k.label}</span>
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
              const created = await api("POST", "/v1/api-keys", { label });
              setSecret({ label: `New key "${created.label}"`, key: created.key });
              setLabel("");
              await keys.reload();
            });
          }}
        >
          <label>
            Label <input required maxLength={64} value={label} onInput={(e) => setLabel(e.currentTarget.value)} />
          </label>
          <button type="submit">Create key</button>
        </form>
      </section>
      <section class="fv-panel">
        <table>
          <caption>Applications</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Id</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {(apps.data?.data ?? []).map((a: Json) => (
              <tr key={a.id}>
                <th scope="row">
                  {a.name}
                  {a.operator ? " (operator)" : ""}
                </th>
                <td>
                  <code>{a.id}</code>
                </td>
                <td>{time(a.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {operator && (
          <form
            class="fv-inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              void act(async () => {
                const created = await api("POST", "/v1/applications", { name: appName });
                setSecret({ label: `First key of ${created.name}`, key: created.api_key.key });
                setAppName("");
                await apps.reload();
              });
            }}
          >
            <label>
              Name <input required maxLength={64} value={appName} onInput={(e) => setAppName(e.currentTarget.value)} />
            </label>
            <button type="submit">Create application</button>
          </form>
        )}
      </section>
    </>
  );
}
