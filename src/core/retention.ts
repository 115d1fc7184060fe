/**
 * Retention: how long a verification keeps the personal data it was given. Once a verification has ended and its
 * application's retention period has passed, a background job removes its phone number, email address, client
 * (IP address, user agent, device id), its attempts' provider texts, and the same fields from its events (which
 * are what webhooks deliver and replay); what the dashboard's aggregates need stays (status, country, channels,
 * outcomes, times, costs, the risk outcome). Refused starts are verifications too, so they go the same way.
 * `DELETE /v1/verifications/{id}` does the same at once for one verification on request (a person's right to
 * erasure), also removing the application's `reference` and `metadata`, and leaves a tombstone: the record, with
 * when the erasure happened and which API key asked.
 *
 * @example
 * const retention = new Retention({ store, clock, verifications, days: { default: 30, applications: { app_x: 7 } } });
 * await retention.runOnce(); // verifications redacted in this pass
 * await retention.erase("app_default", "ver_...", "key_..."); // the tombstone
 */
import { err, type Result } from "./errors.js";
import type { Clock } from "./ports.js";
import type { Verification } from "./types.js";
import type { Access } from "./verification-service.js";

/** Which verifications a pass of the job covers: one application's, or those of every application but some. */
export type RetentionScope = { applicationId: string } | { exceptApplicationIds: readonly string[] };

/** What holds a RetentionStore: both stores, which build it over their own connection. */
export interface RetentionSource {
  retentionStore(): RetentionStore;
}

/** The one port of the retention job and of erasure; both stores implement it (src/storage/retention-*.ts). */
export interface RetentionStore {
  /**
   * Removes the personal data of up to `limit` verifications in `scope` that ended before `endedBefore` and still
   * hold it, marking each redacted at `at` for `retention`; returns how many it redacted.
   */
  redactEnded(scope: RetentionScope, endedBefore: number, limit: number, at: number): Promise<number>;
  /**
   * Removes the personal data of one verification of the application, ended or not, marking it erased at `at` by
   * the API key `by`. False when the application has no such verification.
   */
  eraseVerification(applicationId: string, id: string, at: number, by: string): Promise<boolean>;
}

export interface RetentionSettings {
  /** days after a verification ended that its personal data is kept; default 30 (`RETENTION_DAYS`) */
  default: number;
  /** per application id, overriding the default (`RETENTION_APPLICATIONS`) */
  applications: Readonly<Record<string, number>>;
}

export const DEFAULT_RETENTION_DAYS = 30;
const DAY_MS = 86_400_000;
/** verifications redacted per statement group, so one pass never holds the database for long */
const BATCH = 500;

/** What erasure needs of the verifications' use cases: to read one, and to end it first when it is live. */
export interface ErasableVerifications {
  get(id: string, access: Access): Promise<Result<Verification>>;
  cancel(id: string, access: Access): Promise<Result<Verification>>;
}

export interface RetentionDeps {
  store: RetentionStore;
  clock: Clock;
  days: RetentionSettings;
  verifications: ErasableVerifications;
  /** verifications per batch; default 500 */
  batch?: number;
  onError?: (error: unknown) => void;
}

export class Retention {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: RetentionDeps) {}

  /**
   * Erases one verification of the application on request: a live one is canceled first (its call hung up), then
   * its personal data is removed at once, whatever the retention period. Answers the tombstone: the verification as
   * it is left, with when and by which API key.
   */
  async erase(applicationId: string, id: string, by: string): Promise<Result<Verification>> {
    const access = { kind: "application", applicationId } as const;
    const found = await this.deps.verifications.get(id, access);
    if (!found.ok) return found;
    // Ended between the read and the cancel: nothing left to end, which is what the cancel was for.
    if (found.value.status === "pending") await this.deps.verifications.cancel(id, access);
    if (!(await this.deps.store.eraseVerification(applicationId, id, this.deps.clock.now(), by))) {
      return err("VERIFICATION_NOT_FOUND");
    }
    return this.deps.verifications.get(id, access);
  }

  /** Runs a pass now and every `intervalMs`; a pass still running when the next is due is not doubled. */
  start(intervalMs: number): void {
    if (this.timer) return;
    const pass = () => {
      this.running = this.running.then(() => this.runOnce()).catch((error: unknown) => this.deps.onError?.(error));
    };
    pass();
    this.timer = setInterval(pass, intervalMs);
    this.timer.unref();
  }

  /** Stops the schedule and waits for a pass under way. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One pass: every application's verifications past its retention period, in batches; returns how many. */
  async runOnce(): Promise<number> {
    const { store, clock, days } = this.deps;
    const batch = this.deps.batch ?? BATCH;
    const now = clock.now();
    const scopes: Array<[RetentionScope, number]> = Object.entries(days.applications).map(([applicationId, d]) => [
      { applicationId },
      d,
    ]);
    scopes.push([{ exceptApplicationIds: Object.keys(days.applications) }, days.default]);
    let total = 0;
    for (const [scope, d] of scopes) {
      for (;;) {
        const n = await store.redactEnded(scope, now - d * DAY_MS, batch, now);
        total += n;
        if (n < batch) break;
        // A backlog (the first pass after an upgrade) goes a batch per turn of the event loop, between requests.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    return total;
  }
}

/** Fields of event data that hold personal data: the number, the address, the client, what providers said. */
const PERSONAL_EVENT_FIELDS = ["phone", "email", "client", "ip", "user_agent", "device_id", "detail", "provider_ids"];

/**
 * An event's `data` (JSON text) without its personal fields, or null when it had none (nothing to rewrite).
 *
 * @example
 * redactedEventData('{"phone":"+447400123456","country":"GB"}'); // '{"country":"GB"}'
 */
export function redactedEventData(data: string): string | null {
  const parsed = JSON.parse(data) as Record<string, unknown>;
  let changed = false;
  for (const field of PERSONAL_EVENT_FIELDS) {
    if (field in parsed) {
      delete parsed[field];
      changed = true;
    }
  }
  return changed ? JSON.stringify(parsed) : null;
}
