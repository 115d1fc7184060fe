/**
 * One Server-Sent Events response fed from the durable event log. The event hub only says "something committed";
 * the stream then reads the log after its cursor, so a notification that is lost or coalesced costs latency, never
 * an event. Wake-ups that arrive while a read is under way (or before the response is open) are folded into one
 * more read, so commits are never read out of order and none is missed.
 *
 * @example
 * const stream = new SseStream(request, async () => { for (const e of await log.after(id, cursor)) stream.send(e) });
 * const unsubscribe = events.subscribe(id, stream.wake); // listen before reading the cursor
 * ...read the cursor...
 * stream.open(reply, streams, heartbeatMs, "retry: 2000\n\n", unsubscribe);
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { StreamCaps } from "../events/stream-caps.js";
import { HttpError } from "./errors.js";
import type { OpenStreams } from "./open-streams.js";

/** How long a client refused by a stream cap is asked to wait before it tries again. */
const STREAM_RETRY_AFTER_S = 5;

/**
 * A place for one stream under the caps (process, application, verification): the function that gives it back,
 * or a `429 TOO_MANY_STREAMS` naming the cap, thrown before the stream subscribes to anything.
 */
export function takeStreamPlace(caps: StreamCaps, applicationId: string, verificationId: string | null): () => void {
  const place = caps.acquire(applicationId, verificationId);
  if (typeof place !== "string") return place;
  throw new HttpError({ code: "TOO_MANY_STREAMS", details: { limit: place }, retryAfterSeconds: STREAM_RETRY_AFTER_S });
}

export class SseStream {
  private reading: Promise<void> | undefined;
  private again = false;
  private ready = false;
  private ended = false;
  private response: FastifyReply["raw"] | undefined;
  private cleanUp: () => void = () => undefined;

  /** @param read writes what the log holds after the cursor, with send(); called again while wake-ups arrive */
  constructor(
    private readonly request: FastifyRequest,
    private readonly read: () => Promise<void>,
  ) {}

  get closed(): boolean {
    return this.ended;
  }

  /** Hijacks the reply, writes the headers and `first`, and starts reading; `onClose` runs once when it ends. */
  open(reply: FastifyReply, streams: OpenStreams, heartbeatMs: number, first: string, onClose: () => void): void {
    reply.hijack();
    const raw = reply.raw;
    this.response = raw;
    raw.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      "x-accel-buffering": "no",
      "x-request-id": String(this.request.id),
    });
    raw.write(first);
    const heartbeat = setInterval(() => raw.write(": heartbeat\n\n"), heartbeatMs);
    // A closing server ends its streams; their clients resume with Last-Event-ID.
    const forget = streams.add(this.close);
    this.cleanUp = () => {
      forget();
      clearInterval(heartbeat);
      onClose();
    };
    raw.on("close", this.close);
    // A client gone while the stream was being opened: its "close" has fired already and will not again.
    if (raw.destroyed || !raw.socket || raw.socket.destroyed) {
      this.close();
      return;
    }
    this.ready = true;
    this.wake();
  }

  /** One event as `id:`, `event:` and `data:` lines. */
  send(event: { id: string; type: string }): void {
    this.response?.write(`id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  }

  /** Something committed: read the log again (now, or once the read under way is over). */
  readonly wake = (): void => {
    if (this.ended) return;
    if (this.reading || !this.ready) {
      this.again = true;
      return;
    }
    this.reading = (async () => {
      do {
        this.again = false;
        await this.read();
      } while (this.again && !this.ended);
    })()
      .catch((error: unknown) => {
        this.request.log.error({ err: error }, "SSE stream failed");
        this.close();
      })
      .finally(() => {
        this.reading = undefined;
        // A wake-up after the loop's last look at `again` and before this point would otherwise be lost.
        if (this.again) this.wake();
      });
  };

  /** Resolves once no read is under way (reads that a wake-up started meanwhile included). */
  async idle(): Promise<void> {
    while (this.reading) await this.reading;
  }

  readonly close = (): void => {
    if (this.ended) return;
    this.ended = true;
    this.cleanUp();
    this.response?.end();
  };
}
