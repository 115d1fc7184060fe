/** Picks the store for a DATABASE_URL: `sqlite:<path>` (default), `sqlite::memory:`, or `postgres://...`. */
import type { DeliveryCountsStore } from "../core/delivery-measure.js";
import type { OperatorStore } from "../core/operator-store.js";
import type { Store } from "../core/ports.js";
import type { RetentionSource } from "../core/retention.js";
import type { ReviewNumberStore } from "../core/review-numbers.js";
import type { SinchStore } from "../core/sinch-credentials.js";
import type { TemplateStore } from "../core/templates/template-book.js";
import type { WebhookStore } from "../events/webhook-store.js";
import type { OperationalStatsSource } from "./operational-stats.js";
import { openPostgresStore } from "./postgres.js";
import { openSqliteStore } from "./sqlite.js";

/** Every storage port one database serves. */
export type AppStore = Store &
  OperationalStatsSource &
  RetentionSource & {
    readonly sinch: SinchStore;
    readonly templates: TemplateStore;
    readonly reviewNumbers: ReviewNumberStore;
    readonly delivery: DeliveryCountsStore;
    readonly operator: OperatorStore;
    readonly webhooks: WebhookStore;
  };

export function openStore(databaseUrl: string): AppStore {
  if (databaseUrl.startsWith("sqlite:")) return openSqliteStore(databaseUrl.slice("sqlite:".length));
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) return openPostgresStore(databaseUrl);
  throw new Error(`DATABASE_URL: unsupported scheme in "${databaseUrl.replace(/\/\/[^@]*@/, "//***@")}"`);
}
