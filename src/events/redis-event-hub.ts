/**
 * The event hub across server processes: each commit is published on one Redis channel (just the verification id),
 * and every process hands what it hears to its own listeners, so an SSE client connected to node A sees what node
 * B did and every node's webhook worker wakes. Listeners read the events from the durable log, so a notification
 * lost while Redis is away costs latency (until the next poll or heartbeat), never an event.
 */
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { type EventHub, LocalEventHub } from "./event-hub.js";

export const EVENTS_CHANNEL = "flashverify:events";

export class RedisEventHub implements EventHub {
  private readonly local = new LocalEventHub();
  /** marks this process's own messages, which it has already delivered locally */
  private readonly origin = randomBytes(6).toString("hex");

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
      const space = message.indexOf(" ");
      if (space < 0 || message.slice(0, space) === this.origin) return;
      this.local.committed(message.slice(space + 1));
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

  committed(verificationId: string): void {
    this.local.committed(verificationId);
    this.publisher.publish(this.channel, `${this.origin} ${verificationId}`).catch(this.onError);
  }

  subscribe(verificationId: string, listener: () => void): () => void {
    return this.local.subscribe(verificationId, listener);
  }

  onAny(listener: () => void): () => void {
    return this.local.onAny(listener);
  }
}
