/**
 * The webhook worker: claims due delivery rows in batches, sends each one signed the Standard Webhooks way, and
 * writes every attempt to the delivery log. Deliveries of one verification to one endpoint are sent one after the
 * other in event order, and a failure holds back the later ones until it succeeds or is given up (in order per
 * verification while the endpoint is healthy); different verifications and endpoints go out concurrently.
 *
 * At least once: a row is marked delivered only after a 2xx, so a crash between the send and the write sends it
 * again after the restart. Receivers deduplicate on `webhook-id` (the event id).
 *
 * A claim is a short lease (`leaseMs`, 10 s) renewed while its deliveries are in flight, so the work of a node that
 * died or stalled is claimed by another within seconds. A worker whose lease lapsed (a stalled process that
 * resumes, a database away past the lease) sends nothing more of it: only deliveries actually in flight at that
 * moment can arrive twice.
 */
import { randomUUID } from "node:crypto";
import type { Clock } from "../core/ports.js";
import type { AddressClass } from "./address-guard.js";
import { publicEvent } from "./catalogue.js";
import { postJson } from "./outbound-post.js";
import { nextRetryAt, parseRetryAfter } from "./retry-schedule.js";
import { webhookHeaders } from "./signature.js";
import type { SinchCallbacks } from "./sinch-callbacks.js";
import { backoffMs } from "./timer-worker.js";
import type { ClaimedDelivery, DeliveryResult, WebhookEndpoint, WebhookStore } from "./webhook-store.js";

export interface WebhookWorkerOptions {
  store: WebhookStore;
  clock: Clock;
  /** address classes webhooks may reach besides public ones */
  allowed: ReadonlySet<AddressClass>;
  /** per request; default 10 s */
  timeoutMs?: number;
  /** deliveries claimed per batch; default 200 */
  batchSize?: number;
  /**
   * verifications' sequences sent at a time, each one request in flight; default 256. By Little's law the rate is
   * at most this over a request's round trip: 64 capped a receiver answering in 25 ms at about 2,500 events/s.
   */
  maxInFlight?: number;
  /** connections open at once to one endpoint (outbound-post.ts); default 64 */
  maxConnections?: number;
  /** how often an idle worker looks for due rows (retries); default 1 s. New events wake it at once. */
  pollMs?: number;
  /** how long a claim holds without renewal; renewed every third of it while in flight; default 10 s */
  leaseMs?: number;
  /** renders and signs deliveries to endpoints whose format is `sinch` */
  sinch?: SinchCallbacks;
  /** jitter source, [0, 1) */
  random?: () => number;
  onError?: (error: unknown) => void;
}

const LEASE_MS = 10_000;
/** How long the outcome of sends already made is retried while the store is away, before it is left to the lease. */
const COMPLETE_RETRY_MS = 30_000;
const KICKED_PAUSE_MS = 20;
const MAX_IN_FLIGHT = 256;
/**
 * A lease is renewed once less than this share of it is left (renewals run every third of a lease): one taken less
 * than a sixth of a lease before a renewal waits for the next, and still has half of it to run then.
 */
const RENEW_AFTER = 5 / 6;

export class WebhookWorker {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private stopWaiting: (() => void) | undefined;
  private kicked = false;
  private readonly timeoutMs: number;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly leaseMs: number;
  /** the claims of the groups being sent, renewed while they are */
  private readonly leases = new Set<Lease>();
  private renewTimer: NodeJS.Timeout | undefined;
  private readonly completions: Completions;

  constructor(private readonly options: WebhookWorkerOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.leaseMs = options.leaseMs ?? LEASE_MS;
    this.completions = new Completions(options.store);
  }

  /**
   * Starts the loop: it claims a batch and sends it without waiting for the slowest endpoint (a receiver timing
   * out must not hold up everyone else's deliveries), claims again at once while there is work and room, else
   * pauses until `kick` or the poll. At most `maxInFlight` verifications' sequences are sent at a time.
   */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.renewTimer = setInterval(() => void this.renew(), this.leaseMs / 3);
    this.renewTimer.unref();
    this.loop = (async () => {
      let failures = 0;
      while (this.running) {
        let claimed = 0;
        try {
          claimed = await this.dispatch();
          failures = 0;
        } catch (error) {
          failures += 1;
          this.options.onError?.(error);
        }
        // A store that fails is tried less and less often, up to every 5 s, until it answers.
        if (failures > 0 && this.running) await this.pause(backoffMs(this.options.pollMs ?? 1000, failures));
        else if (claimed === 0 && this.running) await this.pause();
      }
      await Promise.all(this.inFlight);
      clearInterval(this.renewTimer);
    })();
  }

  /** New deliveries were committed: look now rather than at the next poll. */
  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopWaiting?.();
    await this.loop;
  }

  /**
   * Waits for the poll interval, or a little after a kick: under load commits kick hundreds of times a second,
   * and one claim per short pause serves them all.
   */
  private pause(failingMs?: number): Promise<void> {
    const wait = failingMs ?? (this.kicked ? KICKED_PAUSE_MS : (this.options.pollMs ?? 1000));
    return new Promise((resolve) => {
      const timer = setTimeout(done, wait);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wake = undefined;
        self.stopWaiting = undefined;
        self.kicked = false;
        resolve();
      }
      this.stopWaiting = done;
      // A kick during a long wait shortens it to the short pause (not a back-off: a kick says nothing of the store).
      this.wake = () => {
        if (failingMs !== undefined) return;
        clearTimeout(timer);
        self.wake = undefined;
        setTimeout(done, KICKED_PAUSE_MS);
      };
    });
  }

  /** Claims one batch of due deliveries and sends it; resolves, once all are answered, with the requests made. */
  async runOnce(): Promise<number> {
    const groups = await this.claimGroups(this.options.batchSize ?? 200);
    const counts = await Promise.all(groups.map((group) => this.sendGroup(group)));
    return counts.reduce((a, b) => a + b, 0);
  }

  /**
   * Extends the lease of the groups in flight that have held it for a while; a group whose lease was lost (lapsed,
   * taken) sends nothing more. A group claimed since the last renewal or so is left for the next one (it still
   * holds more than half its lease then): most groups are answered within a second, and renewing every group in
   * flight at each turn was a statement per group, hundreds a second while a backlog drains.
   */
  private async renew(): Promise<void> {
    const { store, clock } = this.options;
    const now = clock.now();
    await Promise.all(
      [...this.leases].map(async (lease) => {
        if (lease.lost || lease.ids.length === 0 || lease.until - now > this.leaseMs * RENEW_AFTER) return;
        const until = clock.now() + this.leaseMs;
        try {
          const renewed = await store.renewClaims(lease.ids, lease.until, until);
          if (renewed === lease.ids.length) lease.until = until;
          else lease.lost = true;
        } catch (error) {
          // The lease runs out unless a later renewal succeeds in time.
          this.options.onError?.(error);
        }
      }),
    );
  }

  /** Claims what there is room for and starts sending it; resolves with the number of deliveries claimed. */
  private async dispatch(): Promise<number> {
    const room = (this.options.maxInFlight ?? MAX_IN_FLIGHT) - this.inFlight.size;
    if (room <= 0) return 0;
    const groups = await this.claimGroups(Math.min(room, this.options.batchSize ?? 200));
    for (const group of groups) {
      const sending: Promise<unknown> = this.sendGroup(group)
        .catch((error: unknown) => this.options.onError?.(error))
        .finally(() => {
          this.inFlight.delete(sending);
          this.kick();
        });
      this.inFlight.add(sending);
    }
    return groups.reduce((n, g) => n + g.items.length, 0);
  }

  /** Due deliveries, grouped by endpoint and verification, each group in event order under its lease. */
  private async claimGroups(limit: number): Promise<Group[]> {
    const { store, clock } = this.options;
    const now = clock.now();
    const until = now + this.leaseMs;
    const claimed = await store.claimDeliveries(now, until, limit);
    const groups = new Map<string, ClaimedDelivery[]>();
    for (const c of claimed) {
      const key = `${c.endpoint.id} ${c.delivery.verificationId}`;
      const group = groups.get(key);
      if (group) group.push(c);
      else groups.set(key, [c]);
    }
    return [...groups.values()].map((items) => ({
      items,
      lease: { ids: items.map((c) => c.delivery.id), until, lost: false },
    }));
  }

  /** Sends one verification's deliveries to one endpoint in order, stopping at the first that does not succeed. */
  private async sendGroup({ items, lease }: Group): Promise<number> {
    const { clock } = this.options;
    this.leases.add(lease);
    const results: DeliveryResult[] = [];
    let index = 0;
    try {
      for (; index < items.length; index++) {
        // A lease that lapsed (this process stalled, or the store was away past it) may be another worker's now.
        if (lease.lost || clock.now() >= lease.until) {
          lease.lost = true;
          break;
        }
        const item = items[index] as ClaimedDelivery;
        // (Groups sent beside this one may each still hit an endpoint that just answered 410; they stop there too.)
        const result = await this.send(item);
        results.push(result);
        if (result.status !== "delivered") {
          index++;
          break;
        }
      }
      // Not sent: released for the next claim, unless the lease is lost (then they are no longer ours to release).
      const released = lease.lost ? [] : items.slice(index).map((c) => c.delivery.id);
      await this.complete(results, released);
    } finally {
      this.leases.delete(lease);
    }
    return results.length;
  }

  /** Writes what was sent; while the store is away, tries again for a while rather than send it all again later. */
  private async complete(results: DeliveryResult[], released: string[]): Promise<void> {
    if (results.length === 0 && released.length === 0) return;
    const giveUpAt = performance.now() + COMPLETE_RETRY_MS;
    for (let failures = 1; ; failures++) {
      try {
        await this.completions.write(results, released);
        return;
      } catch (error) {
        if (!this.running || performance.now() >= giveUpAt) throw error;
        this.options.onError?.(error);
        await new Promise((resolve) => setTimeout(resolve, backoffMs(200, failures)));
      }
    }
  }

  private async send({ delivery, event, endpoint }: ClaimedDelivery): Promise<DeliveryResult> {
    const { clock } = this.options;
    const attemptedAt = clock.now();
    const request = await this.render(event, endpoint, attemptedAt);
    const outcome =
      "error" in request
        ? { statusCode: null, retryAfter: undefined, latencyMs: 0, error: request.error }
        : await postJson(endpoint.url, request.body, request.headers, {
            timeoutMs: this.timeoutMs,
            allowed: this.options.allowed,
            maxConnections: this.options.maxConnections,
          });
    const status = outcome.statusCode;
    const attempt = {
      id: randomUUID(),
      deliveryId: delivery.id,
      endpointId: endpoint.id,
      attemptedAt,
      statusCode: status,
      latencyMs: outcome.latencyMs,
      error: outcome.error ?? (status !== null && (status < 200 || status >= 300) ? `HTTP ${status}` : null),
    };
    if (status !== null && status >= 200 && status < 300) {
      return { deliveryId: delivery.id, attempt, status: "delivered", nextAttemptAt: attemptedAt };
    }
    // Nothing can ever be sent for it (a Sinch endpoint and an event without a Sinch result): no retries.
    if ("final" in request) return { deliveryId: delivery.id, attempt, status: "failed", nextAttemptAt: attemptedAt };
    if (status === 410) {
      return {
        deliveryId: delivery.id,
        attempt,
        status: "failed",
        nextAttemptAt: attemptedAt,
        disableEndpoint: "gone",
      };
    }
    const retryAfter = status === 429 || status === 503 ? parseRetryAfter(outcome.retryAfter, attemptedAt) : undefined;
    const next = nextRetryAt(delivery.attempts + 1, attemptedAt, (this.options.random ?? Math.random)(), retryAfter);
    if (next === null) {
      return {
        deliveryId: delivery.id,
        attempt: { ...attempt, error: `${attempt.error}; gave up` },
        status: "failed",
        nextAttemptAt: attemptedAt,
      };
    }
    return { deliveryId: delivery.id, attempt, status: "pending", nextAttemptAt: next };
  }

  /** What goes to an endpoint for an event: our event, Standard Webhooks-signed, or Sinch's result event, Sinch-signed. */
  private async render(
    event: ClaimedDelivery["event"],
    endpoint: WebhookEndpoint,
    now: number,
  ): Promise<{ body: string; headers: Record<string, string> } | { error: string; final?: true }> {
    if (endpoint.format !== "sinch") {
      const body = JSON.stringify(publicEvent(event));
      const headers = webhookHeaders(signingSecrets(endpoint, now), event.id, Math.floor(now / 1000), body);
      return { body, headers };
    }
    const sinch = this.options.sinch;
    const body = sinch && (await sinch.resultEvent(event));
    if (!sinch || !body) {
      return { error: "no Sinch result for this event (no such verification, or it is still pending)", final: true };
    }
    const headers = await sinch.headers(endpoint.applicationId, endpoint.url, body, now);
    return headers ? { body, headers } : { error: "the application has no working Sinch credential pair to sign with" };
  }
}

/**
 * The outcomes of groups written together: groups that finish while a write is under way join the next one, so
 * the store sees one write per round trip instead of one per group. A write that fails is tried again group by
 * group, so that one group's bad outcome does not hold up the others.
 */
class Completions {
  private queued: { results: DeliveryResult[]; released: string[]; done: (error?: unknown) => void }[] = [];
  private writing = false;

  constructor(private readonly store: WebhookStore) {}

  write(results: DeliveryResult[], released: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queued.push({ results, released, done: (error) => (error === undefined ? resolve() : reject(error)) });
      if (!this.writing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.writing = true;
    while (this.queued.length > 0) {
      const batch = this.queued.splice(0);
      try {
        await this.store.completeDeliveries(
          batch.flatMap((b) => b.results),
          batch.flatMap((b) => b.released),
        );
        for (const b of batch) b.done();
      } catch (error) {
        if (batch.length === 1) batch[0]?.done(error);
        else {
          await Promise.all(
            batch.map((b) =>
              this.store.completeDeliveries(b.results, b.released).then(
                () => b.done(),
                (alone: unknown) => b.done(alone),
              ),
            ),
          );
        }
      }
    }
    this.writing = false;
  }
}

/** The deliveries of one verification to one endpoint, claimed together. */
interface Group {
  items: ClaimedDelivery[];
  lease: Lease;
}

/** A claim: its rows, and its token (claimed_until), which each renewal moves on. */
interface Lease {
  ids: string[];
  until: number;
  lost: boolean;
}

/** The current secret, and during a rotation's overlap the previous one too: receivers on either verify. */
export function signingSecrets(endpoint: WebhookEndpoint, now: number): string[] {
  const previousValid =
    endpoint.previousSecret !== null &&
    endpoint.previousSecretExpiresAt !== null &&
    now < endpoint.previousSecretExpiresAt;
  return previousValid ? [endpoint.secret, endpoint.previousSecret as string] : [endpoint.secret];
}
