/**
 * A scripted SIP peer on a bare UDP socket, for tests that need exact control over what the other side sends and
 * when (lost responses, retransmissions, forked answers) — things SIPp scenarios express poorly or racily.
 *
 * @example
 * const peer = await RawPeer.create("127.0.0.5");
 * const invite = await peer.next("INVITE");
 * peer.respond(invite, 180, "Ringing", { toTag: "a1" });
 */
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { formatResponse, parseMessage, type SipMessage } from "../../src/sip/message.js";

export interface Received {
  msg: SipMessage;
  text: string;
  remote: RemoteInfo;
  /** performance.now() at arrival */
  at: number;
}

export class RawPeer {
  /** Every message received, in order. */
  readonly received: Received[] = [];
  private readonly unread: Received[] = [];
  private waiters: { matches: (m: SipMessage) => boolean; resolve: (r: Received) => void }[] = [];

  private constructor(
    private readonly socket: Socket,
    readonly address: string,
    readonly port: number,
  ) {
    socket.on("message", (data, remote) => {
      const text = data.toString("utf8");
      const msg = parseMessage(text);
      if (!msg) return;
      const item = { msg, text, remote, at: performance.now() };
      this.received.push(item);
      const waiter = this.waiters.find((w) => w.matches(msg));
      if (waiter) {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.resolve(item);
      } else {
        this.unread.push(item);
      }
    });
  }

  static create(address: string): Promise<RawPeer> {
    const socket = createSocket("udp4");
    return new Promise((resolve) => {
      socket.bind(0, address, () => resolve(new RawPeer(socket, address, socket.address().port)));
    });
  }

  /** The next unread request with this method, or response with this status; rejects after `timeoutMs`. */
  next(what: string | number, timeoutMs = 2000): Promise<Received> {
    const matches = (m: SipMessage) => (typeof what === "number" ? m.status === what : m.method === what);
    const index = this.unread.findIndex((r) => matches(r.msg));
    if (index >= 0) return Promise.resolve(this.unread.splice(index, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter = { matches, resolve };
      this.waiters.push(waiter);
      setTimeout(() => {
        if (!this.waiters.includes(waiter)) return;
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
    });
  }

  /** Requests received so far with this method. */
  count(method: string): number {
    return this.received.filter((r) => r.msg.method === method).length;
  }

  respond(
    request: Received,
    status: number,
    phrase: string,
    options: { toTag?: string; headers?: string[] } = {},
  ): string {
    const text = formatResponse(request.msg, status, phrase, options);
    this.send(text, request.remote);
    return text;
  }

  send(text: string, remote: { address: string; port: number }): void {
    this.socket.send(text, remote.port, remote.address);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
