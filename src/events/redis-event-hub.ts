/**
 * The event hub across server processes: each commit is published on one Redis channel (just the verification id),
 * and every process hands what it hears to its own listeners, so an SSE client connected to node A sees what node
 * B did and every node's webhook worker wakes. Listeners read the events from the durable log, so a notification
 * lost while Redis is away costs latency (until the next poll or heartbeat), never an event.
 *
 * The commits of one turn of the event loop go out as one message (`<origin> <verification>/<application> ...`):
 * under load that is one publish, and one message for every node to read, instead of one per commit. Each entry
 * names the application too, so a node wakes only that application's streams.
 */
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { type EventHub, LocalEventHub } from "./event-hub.js";

export const EVENTS_CHANNEL = "flashverify:events";

export class RedisEventHub implements EventHub {
  private readonly local = new LocalEventHub();
  /** marks this process's own messages, which it has already delivered locally */
  private readonly origin = randomBytes(6).toString("hex");
  /** `<verification>/<application>` committed in this turn of the event loop, published together at its end */
  private readonly unpublished = new Set<string>();

  /**
   * @param publisher a client for commands
   * @param subscriber a client of its own (a subscribed Redis connection takes no other commands)
   */
  private constructor(
    private readonly publisher: Redis,
    subscriber: Redis,
    private readonly channel: string,
    private readonly onError: (error: unknown) => void,
  ) {
    subscriber.on("message", (from: string, message: string) => {
      if (from !== channel) return;
      const ids = message.split(" ");
      if (ids.length < 2 || ids[0] === this.origin) return;
      for (let i = 1; i < ids.length; i++) {
        const entry = ids[i] as string;
        const slash = entry.indexOf("/");
        if (slash > 0) this.local.committed(entry.slice(0, slash), entry.slice(slash + 1));
        else this.local.committedByUnknownApplication(entry);
      }
    });
  }

  static async start(
    publisher: Redis,
    subscriber: Redis,
    options: { channel?: string; onError?: (error: unknown) => void } = {},
  ): Promise<RedisEventHub> {
    const channel = options.channel ?? EVENTS_CHANNEL;
    await subscriber.subscribe(channel);
    return new RedisEventHub(publisher, subscriber, channel, options.onError ?? (() => undefined));
  }

  committed(verificationId: string, applicationId: string): void {
    this.local.committed(verificationId, applicationId);
    if (this.unpublished.size === 0) setImmediate(() => this.publish());
    this.unpublished.add(`${verificationId}/${applicationId}`);
  }

  private publish(): void {
    const message = `${this.origin} ${[...this.unpublished].join(" ")}`;
    this.unpublished.clear();
    this.publisher.publish(this.channel, message).catch(this.onError);
  }

  subscribe(verificationId: string, listener: () => void): () => void {
    return this.local.subscribe(verificationId, listener);
  }

  subscribeApplication(applicationId: string, listener: () => void): () => void {
    return this.local.subscribeApplication(applicationId, listener);
  }

  onAny(listener: () => void): () => void {
    return this.local.onAny(listener);
  }
}
