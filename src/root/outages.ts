/**
 * The database and Redis while they cannot be reached: a failure because one is away is counted against its
 * outage, which the log reports once when it begins and once when it ends, instead of once per request.
 */
import type { Metrics } from "../metrics/index.js";
import { Outage, type OutageReport } from "../storage/outage.js";
import { isRedisUnreachable, isStoreUnreachable } from "../storage/unreachable.js";

export class Outages {
  readonly store: Outage;
  redis: Outage | null = null;

  constructor(
    private readonly metrics: Metrics,
    private readonly onOutage: (up: boolean, report: OutageReport) => void,
    private readonly report: (error: unknown, context: string) => void,
    ping: () => Promise<unknown>,
  ) {
    this.store = this.watch("database", isStoreUnreachable, ping);
  }

  /** Set once Redis is open: failures of its commands count against its outage from then on. */
  watchRedis(ping: () => Promise<unknown>): void {
    this.redis = this.watch("redis", isRedisUnreachable, ping);
  }

  /** Reports a failure of background work, unless it is one more sign of an outage already reported. */
  readonly onBackgroundError = (error: unknown, context: string): void => {
    const kind = context.startsWith("rate limiter") ? "request" : "background";
    if (this.store.note(error, kind) || this.redis?.note(error, kind)) return;
    this.report(error, context);
  };

  close(): void {
    this.store.close();
    this.redis?.close();
  }

  private watch(dependency: string, isUnreachable: (error: unknown) => boolean, probe: () => Promise<unknown>) {
    const outage = new Outage({
      dependency,
      isUnreachable,
      probe,
      onDown: (report) => this.onOutage(false, report),
      onUp: (report) => this.onOutage(true, report),
      onChange: (up) => this.metrics.dependencyUp.set({ dependency }, up ? 1 : 0),
    });
    this.metrics.dependencyUp.set({ dependency }, 1);
    return outage;
  }
}
