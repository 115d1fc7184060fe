/**
 * One TCP or TLS connection to the next hop, shared by every call (RFC 3261 §18.1.1: reuse the connection), opened
 * on the first send and reopened on demand after it drops.
 *
 * Sends made while the connection is being opened wait for it (up to MAX_QUEUED); if it cannot be opened they fail,
 * and so does every send during a backoff that grows from 100 ms to 5 s with consecutive failures: a dead trunk
 * costs one connection attempt per backoff, and its calls end `network_error` at once so a trunk layer can fail
 * over. Each attempt tries the next DNS candidate after a failed one.
 */
import { connect as netConnect, type Socket } from "node:net";
import { type ConnectionOptions, connect as tlsConnect } from "node:tls";
import type { HopAddress } from "./dns.js";
import { StreamFramer } from "./stream-framer.js";
import type { NextHopTransport, TransportEvents } from "./transport.js";

export interface StreamTransportOptions {
  protocol: "TCP" | "TLS";
  localAddress: string;
  candidates: readonly HopAddress[];
  /** TLS: trusted CAs, server name to verify (default: none, the address), client certificate. */
  tls?: { ca?: string; servername?: string; cert?: string; key?: string; rejectUnauthorized?: boolean } | undefined;
  /** How long an attempt to connect (and for TLS, to handshake) may take. Default 5000. */
  connectTimeoutMs?: number;
}

const MAX_QUEUED = 10_000;
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5000;

interface Queued {
  data: Buffer;
  onError: (err: Error) => void;
}

export class StreamTransport implements NextHopTransport {
  readonly protocol: "TCP" | "TLS";
  readonly reliable = true;
  local: { address: string; port: number };
  private socket: Socket | null = null;
  private open = false;
  private queue: Queued[] = [];
  private candidates: readonly HopAddress[];
  private candidate = 0;
  private backoffMs = 0;
  private backoffUntil = 0;
  private closed = false;
  /** Start-up's wait for the first attempt. */
  private attemptSettled: (() => void) | null = null;

  /** Connects once, so `local` names a real address; a trunk that is down now is retried on demand later. */
  static async open(options: StreamTransportOptions, events: TransportEvents): Promise<StreamTransport> {
    const transport = new StreamTransport(options, events);
    await transport.connected();
    return transport;
  }

  private constructor(
    private readonly options: StreamTransportOptions,
    private readonly events: TransportEvents,
  ) {
    this.protocol = options.protocol;
    this.candidates = options.candidates;
    this.local = { address: options.localAddress, port: 0 };
  }

  send(data: Buffer, onError: (err: Error) => void): void {
    if (this.open && this.socket) {
      this.socket.write(data);
      return;
    }
    if (this.closed) return;
    if (!this.socket && performance.now() < this.backoffUntil) {
      failLater(onError, new Error(`${this.protocol} connection to the next hop is down; retrying after a backoff`));
      return;
    }
    this.enqueue(data, onError);
  }

  sendNow(data: Buffer, onError: (err: Error) => void): void {
    if (!this.open && !this.socket) this.backoffUntil = 0;
    this.send(data, onError);
  }

  retarget(candidates: readonly HopAddress[]): void {
    if (candidates.length === 0) return;
    this.candidates = candidates;
    this.candidate = 0;
  }

  close(): Promise<void> {
    this.closed = true;
    this.failQueue(new Error("transport closed"));
    const socket = this.socket;
    if (!socket) return Promise.resolve();
    return new Promise((resolve) => {
      socket.once("close", () => resolve());
      socket.end();
      // A peer that never acknowledges the FIN must not hold close() up.
      setTimeout(() => socket.destroy(), 1000).unref();
    });
  }

  /** Resolves once the first connection attempt has settled, whatever its outcome. */
  private connected(): Promise<void> {
    return new Promise((resolve) => {
      this.attemptSettled = resolve;
      this.connect();
    });
  }

  private enqueue(data: Buffer, onError: (err: Error) => void): void {
    if (this.queue.length >= MAX_QUEUED) {
      failLater(onError, new Error(`${this.protocol} connection to the next hop is still opening; queue full`));
      return;
    }
    this.queue.push({ data, onError });
    if (!this.socket) this.connect();
  }

  private connect(): void {
    const hop = this.candidates[this.candidate % this.candidates.length];
    if (!hop) {
      this.failQueue(new Error("no address for the next hop"));
      return;
    }
    const { options } = this;
    const timeout = options.connectTimeoutMs ?? 5000;
    const socket =
      options.protocol === "TLS"
        ? tlsConnect(tlsOptions(hop, options))
        : netConnect({ host: hop.address, port: hop.port, localAddress: options.localAddress });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    socket.setTimeout(timeout, () => socket.destroy(new Error(`${options.protocol} connect timed out`)));
    const framer = new StreamFramer();
    let failure: Error | null = null;
    socket.once(options.protocol === "TLS" ? "secureConnect" : "connect", () => {
      socket.setTimeout(0);
      this.open = true;
      this.backoffMs = 0;
      this.local = { address: socket.localAddress ?? options.localAddress, port: socket.localPort ?? 0 };
      const queued = this.queue;
      this.queue = [];
      for (const q of queued) socket.write(q.data);
      this.settleAttempt();
    });
    socket.on("data", (chunk: Buffer) => {
      try {
        framer.push(chunk, this.events.onMessage, () => socket.write("\r\n"));
      } catch (error) {
        socket.destroy(error as Error);
      }
    });
    socket.on("error", (error) => {
      failure = error;
    });
    socket.on("close", () => {
      if (this.socket === socket) this.socket = null;
      const wasOpen = this.open;
      this.open = false;
      const error = failure ?? new Error(`${options.protocol} connection to the next hop closed`);
      if (wasOpen) {
        // Calls keep going only if their requests can still be sent: the UAC decides, then may send CANCELs,
        // which open a new connection at once.
        if (!this.closed) this.events.onFailure("connection_lost", error);
        return;
      }
      this.candidate++;
      this.backoffMs = Math.min(BACKOFF_MAX_MS, this.backoffMs ? this.backoffMs * 2 : BACKOFF_MIN_MS);
      this.backoffUntil = performance.now() + this.backoffMs;
      this.failQueue(error);
      this.settleAttempt();
    });
  }

  private settleAttempt(): void {
    const settled = this.attemptSettled;
    this.attemptSettled = null;
    settled?.();
  }

  private failQueue(error: Error): void {
    const queued = this.queue;
    this.queue = [];
    for (const q of queued) failLater(q.onError, error);
  }
}

/** Send errors are reported asynchronously, as dgram does: a caller is never re-entered from its own send(). */
function failLater(onError: (err: Error) => void, error: Error): void {
  queueMicrotask(() => onError(error));
}

function tlsOptions(hop: HopAddress, options: StreamTransportOptions): ConnectionOptions & { localAddress: string } {
  const tls = options.tls ?? {};
  const result: ConnectionOptions & { localAddress: string } = {
    host: hop.address,
    port: hop.port,
    localAddress: options.localAddress,
    rejectUnauthorized: tls.rejectUnauthorized ?? true,
  };
  if (tls.ca !== undefined) result.ca = tls.ca;
  if (tls.cert !== undefined) result.cert = tls.cert;
  if (tls.key !== undefined) result.key = tls.key;
  if (tls.servername !== undefined) result.servername = tls.servername;
  return result;
}
