/** The dashboard's frame: the login form until a key works, then the sections, chosen by the URL's hash. */
import { useEffect, useState } from "preact/hooks";
import { session, whenUnauthorized } from "./api.js";
import { BlocksScreen } from "./blocks.js";
import { FeedScreen } from "./feed.js";
import { KeysScreen } from "./keys.js";
import { Login } from "./login.js";
import { OverviewScreen } from "./overview.js";
import { PoolsScreen } from "./pools.js";
import { ReviewNumbersScreen } from "./review-numbers.js";
import { WebhooksScreen } from "./webhooks.js";

const SECTIONS = [
  { hash: "#overview", label: "Overview", Screen: OverviewScreen },
  { hash: "#verifications", label: "Verifications", Screen: FeedScreen },
  { hash: "#keys", label: "Applications and keys", Screen: KeysScreen },
  { hash: "#webhooks", label: "Webhooks", Screen: WebhooksScreen },
  { hash: "#pools", label: "Pools", Screen: PoolsScreen },
  { hash: "#blocks", label: "Blocks", Screen: BlocksScreen },
  { hash: "#review-numbers", label: "Review numbers", Screen: ReviewNumbersScreen },
] as const;

const current = () => SECTIONS.find((s) => s.hash === location.hash) ?? SECTIONS[0];

export function App() {
  const [key, setKey] = useState(session.key());
  const [section, setSection] = useState(current);

  useEffect(() => {
    whenUnauthorized(() => {
      session.clear();
      setKey(null);
    });
    const onHash = () => setSection(current());
    addEventListener("hashchange", onHash);
    return () => removeEventListener("hashchange", onHash);
  }, []);
  useEffect(() => {
    document.title = `${section.label} · flashverify dashboard`;
  }, [section]);

  if (!key) {
    return (
      <Login
        onLogin={(k) => {
          session.save(k);
          setKey(k);
        }}
      />
    );
  }
  const { Screen } = section;
  return (
    <div class="fv-shell">
      <header class="fv-header">
        <p class="fv-brand">flashverify</p>
        <nav aria-label="Dashboard sections">
          <ul>
            {SECTIONS.map((s) => (
              <li key={s.hash}>
                <a href={s.hash} aria-current={s === section ? "page" : undefined}>
                  {s.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <button
          type="button"
          class="fv-link"
          onClick={() => {
            session.clear();
            setKey(null);
          }}
        >
          Log out
        </button>
      </header>
      <main id="main" class="fv-main">
        <Screen />
      </main>
    </div>
  );
}
