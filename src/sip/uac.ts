/**
 * SipUac: our own small SIP user agent client for flash calls, on one UDP socket.
 *
 * npm SIP stacks were measured too slow or unsafe for this (see TELECOM-NOTES.md), and a flash call needs only a
 * sliver of SIP: INVITE, CANCEL, ACK and, when a phone answers anyway, BYE. Every call and transaction shares one
 * timer wheel; responses are routed by the top Via branch. The socket is connected to the one next hop, so the
 * kernel drops datagrams from anyone else and reports ICMP unreachables to us.
 *
 * @example
 * const uac = await SipUac.create({ target: { host: "127.0.0.2", port: 5060 } });
 * const call = uac.placeCall({ to: "+447400123456", cli: "+442079412345", ringTimeMs: 2000, maxDialMs: 15000 });
 * const record = await call.done; // { reason: "ringing_canceled", finalCode: 487, ... }
 */
import type { Socket } from "node:dgram";
import { checkCallOptions } from "./call-options.js";
import { ExpiringMap } from "./expiring-map.js";
import { newCallId } from "./ids.js";
import { formatResponse, headerParam, hostPort, parseMessage, type SipMessage } from "./message.js";
import type { NonInviteClientTransaction } from "./non-invite-transaction.js";
import { type CallContext, type FinishedCall, OutgoingCall } from "./outgoing-call.js";
import { TimerWheel } from "./timer-wheel.js";
import type { FlashCaller, PlaceCallOptions, PlacedCall, SipUacOptions } from "./types.js";
import { closeUdpSocket, openUdpSocket } from "./udp-socket.js";

export type { CallReason, CallRecord, FlashCaller, PlaceCallOptions, PlacedCall, SipUacOptions } from "./types.js";

export class SipUac implements FlashCaller {
  /** The bound socket address (what Via and Contact advertise). */
  readonly local: { address: string; port: number };
  private readonly wheel = new TimerWheel();
  /** Calls without a record yet, by branch. */
  private readonly calls = new Map<string, OutgoingCall>();
  /** Finished calls, by branch, still re-ACKing retransmitted finals for Timer D. */
  private readonly finished: ExpiringMap<string, FinishedCall>;
  private readonly byes = new Map<string, NonInviteClientTransaction>();
  private readonly ctx: CallContext;
  private closed = false;

  /**
   * Binds the socket and connects it to `options.target`.
   * @throws RangeError for a domain, host or userAgent that cannot go into a header; the bind error if any.
   */
  static async create(options: SipUacOptions): Promise<SipUac> {
    // These go into every request verbatim: refuse anything that could break a header line.
    for (const host of [options.domain, options.target.host]) {
      if (host !== undefined && /[\s<>;@]/.test(host))
        throw new RangeError(`invalid SIP host: ${JSON.stringify(host)}`);
    }
    if (options.userAgent !== undefined && /[\r\n]/.test(options.userAgent)) {
      throw new RangeError("userAgent must be one line");
    }
    const socket = await openUdpSocket({
      address: options.localAddress ?? "127.0.0.1",
      port: options.localPort ?? 0,
      receiveBufferBytes: options.receiveBufferBytes,
      sendBufferBytes: options.sendBufferBytes,
      connectTo: options.target,
    });
    return new SipUac(socket, options);
  }

  private constructor(
    private readonly socket: Socket,
    options: SipUacOptions,
  ) {
    // Bound to a wildcard address, getsockname after connect still names the route's source address.
    const { address, port } = socket.address();
    this.local = { address, port };
    const t1 = options.t1Ms ?? 500;
    this.finished = new ExpiringMap(options.timerDMs ?? 64 * t1);
    const calls = this.calls;
    const finished = this.finished;
    this.ctx = {
      wheel: this.wheel,
      t1,
      t2: 8 * t1,
      timerB: options.timerBMs ?? 64 * t1,
      now: options.now ?? Date.now,
      viaPrefix: `SIP/2.0/UDP ${hostPort(address, port)}`,
      contact: `<sip:${hostPort(address, port)}>`,
      domain: options.domain ?? options.target.host,
      userAgent: options.userAgent ?? "flashverify",
      byes: this.byes,
      send: (data, onError) => this.send(data, onError),
      ended(branch, call) {
        calls.delete(branch);
        finished.set(branch, call);
      },
    };
    socket.on("message", (data) => this.onDatagram(data));
    socket.on("error", (err) => this.onSocketError(err));
  }

  /** Calls in progress (without a record yet). */
  get activeCalls(): number {
    return this.calls.size;
  }

  /**
   * Places a flash call: INVITE, ring `ringTimeMs` after the first 18x, CANCEL. `done` always resolves.
   * @throws RangeError when `to` or `cli` is not E.164, Error after close().
   */
  placeCall(options: PlaceCallOptions): PlacedCall {
    return this.placeCallWithId(newCallId(), options);
  }

  /**
   * placeCall with a Call-ID chosen by the caller: the worker-backed caller names each call on its own thread,
   * where `PlacedCall.callId` must be known at once. `callId` must be a token (it goes into a header verbatim).
   * @internal
   */
  placeCallWithId(callId: string, options: PlaceCallOptions): PlacedCall {
    if (this.closed) throw new Error("SipUac is closed");
    checkCallOptions(options);
    const call = new OutgoingCall(this.ctx, options, callId);
    this.calls.set(call.id.branch, call);
    call.start();
    return { callId: call.id.callId, done: call.done, cancel: () => call.cancel() };
  }

  /** Ends in-flight calls (one CANCEL each where a provisional arrived), then closes the socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const call of this.calls.values()) call.abandon();
    for (const tx of this.byes.values()) tx.stop();
    this.byes.clear();
    this.closed = true;
    this.finished.clear();
    this.wheel.stop();
    await closeUdpSocket(this.socket);
  }

  private send(data: Buffer, onError: (err: Error) => void): void {
    if (this.closed) return;
    this.socket.send(data, (err) => {
      if (err) onError(err);
    });
  }

  private onDatagram(data: Buffer): void {
    const msg = parseMessage(data.toString("utf8"));
    if (!msg) return;
    if (msg.status === 0) {
      this.onRequest(msg);
      return;
    }
    const top = msg.via[0];
    const branch = top === undefined ? null : headerParam(top, "branch");
    if (branch === null) return;
    const call = this.calls.get(branch) ?? this.finished.get(branch);
    if (call) call.onResponse(msg);
    else this.byes.get(branch)?.onResponse(msg.status);
  }

  /** We place calls only, but answer what a trunk may send us: keepalive OPTIONS and BYEs crossing ours. */
  private onRequest(msg: SipMessage): void {
    if (msg.method === "ACK" || msg.via.length === 0) return;
    const ok = msg.method === "OPTIONS" || msg.method === "BYE";
    const response = ok ? formatResponse(msg, 200, "OK") : formatResponse(msg, 501, "Not Implemented");
    this.send(Buffer.from(response), noop);
  }

  /**
   * On a connected socket ICMP port/host unreachable arrives here, not tied to a datagram. Every request goes to
   * the same next hop, so it fails the calls still waiting for a first response from it; calls the hop already
   * answered continue on their own timers.
   */
  private onSocketError(_err: Error): void {
    for (const call of this.calls.values()) if (!call.responded) call.fail("network_error");
  }
}

function noop(): void {}
