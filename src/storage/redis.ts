/**
 * The Redis connections of a server process (REDIS_URL): one for commands (rate limits, publishing) and one
 * subscribed to the events channel. Commands are never queued while the connection is down, so whatever depends
 * on Redis fails at once (and the callers fail closed) rather than waiting; ioredis reconnects by itself, with a
 * backoff capped at two seconds, and everything works again when Redis returns.
 */
import { Redis } from "ioredis";

export interface RedisConnections {
  commands: Redis;
  subscriber: Redis;
  close(): Promise<void>;
}

/** Connects both clients; rejects when Redis does not answer within `timeoutMs` (a configuration error at start). */
export async function openRedis(
  url: string,
  onError: (error: unknown) => void,
  timeoutMs = 10_000,
): Promise<RedisConnections> {
  const options = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt: number) => Math.min(100 * 2 ** attempt, 2000),
  };
  // Commands issued in one turn of the event loop (limits of concurrent requests, publishes) share one write.
  const commands = new Redis(url, { ...options, enableAutoPipelining: true });
  // A subscriber must queue its SUBSCRIBE until the first connection is up, and re-subscribes after reconnecting.
  const subscriber = new Redis(url, { ...options, enableOfflineQueue: true });
  // Connection errors repeat while Redis is away: report a change of state, not every retry.
  let down = false;
  for (const client of [commands, subscriber]) {
    client.on("error", (error) => {
      if (!down) onError(error);
      down = true;
    });
    client.on("ready", () => {
      down = false;
    });
  }
  const ready = (client: Redis) =>
    new Promise<void>((resolve, reject) => {
      if (client.status === "ready") return resolve();
      const timer = setTimeout(
        () => reject(new Error(`REDIS_URL: no answer from Redis within ${timeoutMs} ms`)),
        timeoutMs,
      );
      client.once("ready", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  try {
    await Promise.all([ready(commands), ready(subscriber)]);
  } catch (error) {
    commands.disconnect();
    subscriber.disconnect();
    throw error;
  }
  return {
    commands,
    subscriber,
    async close() {
      commands.disconnect();
      subscriber.disconnect();
    },
  };
}
