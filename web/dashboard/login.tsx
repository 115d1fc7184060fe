/** Logging in with an API key: the key is tried against the API before it is kept for this tab. */
import { useState } from "preact/hooks";
import { api, errorText } from "./api.js";

export function Login({ onLogin }: { onLogin: (key: string) => void }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api("GET", "/v1/applications", undefined, key.trim());
      onLogin(key.trim());
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="fv-login">
      <h1>flashverify dashboard</h1>
      <form onSubmit={submit} aria-describedby="login-help">
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autocomplete="off"
          spellcheck={false}
          required
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
          aria-invalid={error ? "true" : undefined}
          aria-errormessage={error ? "login-error" : undefined}
        />
        <p id="login-help" class="fv-muted">
          An application's key (<code>fv_…</code>), e.g. from <code>npm run -s flashverify -- keys create</code>. It is
          kept in this tab only and sent as the API's bearer token.
        </p>
        <button type="submit" disabled={busy}>
          {busy ? "Checking…" : "Log in"}
        </button>
        <p id="login-error" role="alert" class="fv-error">
          {error}
        </p>
      </form>
    </main>
  );
}
