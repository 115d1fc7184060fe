/**
 * SipUac: our own small SIP user agent client for flash calls, on one UDP socket or one TCP/TLS connection.
 *
 * npm SIP stacks were measured too slow or unsafe for this (docs/sip-notes.md), and a flash call needs only a
 * sliver of SIP: INVITE, CANCEL, ACK and, when a phone answers anyway, BYE (plus OPTIONS probes and digest
 * answers for trunks). Every call and transaction shares one timer wheel; responses are routed by the top Via
 * branch. Everything goes to one next hop (the trunk, or its outbound proxy), resolved by DNS at start and again
 * when its TTL runs out, never per call.
 *
 * @example
 * const uac = await SipUac.create({ target: { host: "127.0.0.2", port: 5060 } });
 * const call = uac.placeCall({ to: "+447400123456", cli: "+442079412345", ringTimeMs: 2000, maxDialMs: 15000 });
 * const record = await call.done; // { reason: "ringing_canceled", finalCode: 487, ... }
 */
import { isIP, isIPv6 } from "node:net";
import { LocalMediaHost } from "../media/media-host.js";
import { SplitMediaHost } from "../media/media-split.js";
import { MediaThreads } from "../media/media-threads.js";
import { sdpOffer } from "../media/sdp.js";
import { checkCallOptions, isOneLine } from "./call-options.js";
import { DigestClient } from "./digest.js";
import { createResolver, type HopAddress, resolveHop } from "./dns.js";
import { ExpiringMap } from "./expiring-map.js";
import type { FinishedCall } from "./finished-call.js";
import { newBranch, newCallId, newTag } from "./ids.js";
import { formatResponse, headerParam, hostPort, parseMessage, type SipMessage } from "./message.js";
import { NonInviteClientTransaction } from "./non-invite-transaction.js";
import { type CallContext, OutgoingCall, type PendingMedia } from "./outgoing-call.js";
import { optionsRequest } from "./requests.js";
import { StreamTransport } from "./stream-transport.js";
import { TimerWheel } from "./timer-wheel.js";
import { type NextHopTransport, type TransportEvents, UdpTransport } from "./transport.js";
import type { CallRecord, FlashCaller, PlaceCallOptions, PlacedCall, SipTransport, SipUacOptions } from "./types.js";
import type { VoiceContext } from "./voice-dialog.js";

export type { CallReason, CallRecord, FlashCaller, PlaceCallOptions, PlacedCall, SipUacOptions } from "./types.js";

export class SipUac implements FlashCaller {
  private readonly wheel = new TimerWheel();
  /** Calls without a record yet, by branch. */
  private readonly calls = new Map<string, OutgoingCall>();
  /** Finished calls, by branch, still re-ACKing retransmitted finals for Timer D. */
  private readonly finished: ExpiringMap<string, FinishedCall>;
  /** Non-INVITE transactions of our own (BYEs, OPTIONS probes), by branch. */
  private readonly transactions = new Map<string, NonInviteClientTransaction>();
  /** Probes not answered yet, resolved with null on close. */
  private readonly probes = new Set<(status: number | null) => void>();
  private readonly ctx: CallContext;
  private closed = false;
  /** Calls without a record (`calls` also holds the branches of re-sent INVITEs, so its size says more). */
  private active = 0;
  private refresh: NodeJS.Timeout | null = null;
  /** Via and Contact for the transport's current local address (a TCP/TLS reconnect changes the port). */
  private advertised: { port: number; via: string; contact: string } | null = null;
  /** Voice calls: where RTP sockets are bound and what their SDP says; null without media. */
  private readonly media: { advertised: string } | null;
  private readonly voice: VoiceContext | null;
  private readonly tap: ((dir: "out" | "in", data: Buffer) => void) | undefined;

  /**
   * Binds the socket and connects it to `options.target`.
   * @throws RangeError for a domain, host or userAgent that cannot go into a header; the bind error if any.
   */
  static async create(options: SipUacOptions): Promise<SipUac> {
    // These go into every request verbatim: refuse anything that could break a header line.
    for (const host of [options.domain, options.target.host, options.outboundProxy?.host]) {
      if (host !== undefined && /[\s<>;@]/.test(host))
        throw new RangeError(`invalid SIP host: ${JSON.stringify(host)}`);
    }
    if (options.userAgent !== undefined && /[\r\n]/.test(options.userAgent)) {
      throw new RangeError("userAgent must be one line");
    }
    const credentials = options.credentials;
    if (credentials !== undefined) {
      for (const field of ["username", "password", "realm"] as const) {
        const value = credentials[field];
        if (value === undefined && field === "realm") continue;
        if (typeof value !== "string" || (field === "username" && value === "") || !isOneLine(value)) {
          throw new RangeError(`credentials.${field} must be a one-line string`);
        }
      }
    }
    const transport: SipTransport = options.transport ?? "udp";
    if (transport !== "udp" && transport !== "tcp" && transport !== "tls") {
      throw new RangeError(`transport must be udp, tcp or tls: ${JSON.stringify(transport)}`);
    }
    const localAddress = options.localAddress ?? "127.0.0.1";
    const family = isIPv6(localAddress) ? 6 : 4;
    const resolver = createResolver(options.dnsServers);
    const nextHop = options.outboundProxy ?? options.target;
    const resolve = () => resolveHop(resolver, nextHop, transport, family);
    const hop = await resolve();
    // Messages and failures reach the UAC once it exists; nothing arrives before its first request.
    let uac: SipUac | null = null;
    const events: TransportEvents = {
      onMessage: (data) => uac?.onMessage(data),
      onFailure: (kind) => uac?.onTransportFailure(kind),
    };
    const link: NextHopTransport =
      transport === "udp"
        ? await UdpTransport.open(
            {
              localAddress,
              localPort: options.localPort ?? 0,
              receiveBufferBytes: options.receiveBufferBytes,
              sendBufferBytes: options.sendBufferBytes,
              candidates: hop.candidates,
            },
            events,
          )
        : await StreamTransport.open(
            {
              protocol: transport === "tls" ? "TLS" : "TCP",
              localAddress,
              candidates: hop.candidates,
              tls: {
                ...options.tls,
                servername: options.tls?.servername ?? (isIP(nextHop.host) ? undefined : nextHop.host),
              },
            },
            events,
          );
    uac = new SipUac(link, options, transport);
    uac.scheduleRefresh(resolve, hop.refreshSeconds);
    return uac;
  }

  private constructor(
    private readonly transport: NextHopTransport,
    options: SipUacOptions,
    kind: SipTransport,
  ) {
    const advertise = () => this.advertise();
    this.tap = options.tap;
    const t1 = options.t1Ms ?? 500;
    if (options.media) {
      const { ports, priority, threads = 1 } = options.media;
      const address = options.media.address ?? options.localAddress ?? "127.0.0.1";
      this.media = { advertised: options.media.advertisedAddress ?? address };
      const start = { address, ports, ...(priority === undefined ? {} : { priority }) };
      const host =
        threads === 0
          ? new LocalMediaHost(address, ports)
          : new SplitMediaHost(address, ports, new MediaThreads(threads, start));
      this.voice = { host, dialogs: new Map() };
    } else {
      this.media = null;
      this.voice = null;
    }
    this.finished = new ExpiringMap(options.timerDMs ?? 64 * t1);
    const calls = this.calls;
    const finished = this.finished;
    this.ctx = {
      wheel: this.wheel,
      t1,
      t2: 8 * t1,
      timerB: options.timerBMs ?? 64 * t1,
      now: options.now ?? Date.now,
      get viaPrefix() {
        return advertise().via;
      },
      get contact() {
        return advertise().contact;
      },
      domain: options.domain ?? options.target.host,
      userAgent: options.userAgent ?? "flashverify",
      scheme: kind === "tls" ? "sips" : "sip",
      uriParams: kind === "tcp" ? ";transport=tcp" : "",
      transactions: this.transactions,
      voice: this.voice,
      reliable: transport.reliable,
      digest: options.credentials ? new DigestClient(options.credentials) : null,
      rebranched(branch, call) {
        calls.set(branch, call);
      },
      send: (data, onError) => this.send(data, onError),
      ended: (branch, call, replaced) => {
        this.active--;
        calls.delete(branch);
        if (replaced) for (const old of replaced) calls.delete(old);
        finished.set(branch, call);
      },
    };
  }

  /** The local address of the socket or connection (what Via and Contact advertise). */
  get local(): { address: string; port: number } {
    return this.transport.local;
  }

  private advertise(): { port: number; via: string; contact: string } {
    const { address, port } = this.transport.local;
    if (this.advertised?.port === port) return this.advertised;
    const where = hostPort(address, port);
    const { scheme, uriParams } = this.ctx;
    this.advertised = {
      port,
      via: `SIP/2.0/${this.transport.protocol} ${where}`,
      contact: `<${scheme}:${where}${uriParams}>`,
    };
    return this.advertised;
  }

  /** Re-resolves the next hop when the TTL runs out (a failed lookup keeps the addresses and retries in 30 s). */
  private scheduleRefresh(
    resolve: () => Promise<{ candidates: HopAddress[]; refreshSeconds: number }>,
    seconds: number,
  ) {
    if (!Number.isFinite(seconds) || this.closed) return;
    this.refresh = setTimeout(() => {
      resolve().then(
        (hop) => {
          if (this.closed) return;
          this.transport.retarget(hop.candidates);
          this.scheduleRefresh(resolve, hop.refreshSeconds);
        },
        () => this.scheduleRefresh(resolve, 30),
      );
    }, seconds * 1000);
    this.refresh.unref();
  }

  /** Calls in progress (without a record yet). */
  get activeCalls(): number {
    return this.active;
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
    if (options.media) return this.placeVoiceCall(callId, options);
    const call = new OutgoingCall(this.ctx, options, callId);
    this.calls.set(call.id.branch, call);
    this.active++;
    call.start();
    return { callId: call.id.callId, done: call.done, cancel: () => call.cancel() };
  }

  /**
   * A voice call binds its RTP socket before the INVITE can offer it. A cancel before then ends the call without
   * sending anything; a port range with no free port ends it `network_error`.
   */
  private placeVoiceCall(callId: string, options: PlaceCallOptions): PlacedCall {
    const media = this.media;
    if (!media) throw new Error("voice calls need the UAC's media option (an RTP port range)");
    this.active++;
    let call: OutgoingCall | null = null;
    let cancelled = false;
    const startedAt = this.ctx.now();
    const unplaced = (reason: CallRecord["reason"]): CallRecord => {
      this.active--;
      const at = this.ctx.now();
      return { callId, startedAt, ringingAt: null, endedAt: at, finalCode: null, reason, reasonHeader: null };
    };
    const done = (this.voice as VoiceContext).host.open().then(
      (leg) => {
        if (cancelled || this.closed) {
          leg.close();
          return unplaced("timeout");
        }
        const port = leg.port;
        const offer = sdpOffer({ address: media.advertised, port, sessionId: Date.now() % 1e9 });
        const pending: PendingMedia = { leg, offer, options: options.media as PendingMedia["options"] };
        call = new OutgoingCall(this.ctx, options, callId, pending);
        this.calls.set(call.id.branch, call);
        call.start();
        return call.done;
      },
      () => unplaced("network_error"),
    );
    return {
      callId,
      done,
      cancel: () => {
        cancelled = true;
        call?.cancel();
      },
    };
  }

  /**
   * Sends OPTIONS to the next hop. Resolves with the final status (any final means the trunk is alive), or null
   * when none came within `timeoutMs` (default 64*T1), the send failed or the UAC closed. Never rejects.
   */
  probe(timeoutMs: number = this.ctx.timerB): Promise<number | null> {
    if (this.closed) return Promise.resolve(null);
    const branch = newBranch();
    const request = Buffer.from(optionsRequest(this.ctx, { callId: newCallId(), branch, fromTag: newTag() }));
    return new Promise((resolve) => {
      const end = (status: number | null) => {
        if (!this.probes.delete(end)) return;
        this.transactions.delete(branch);
        tx.stop();
        resolve(status);
      };
      // A probe asks whether the trunk is back: it may open a connection during a reconnect backoff.
      const ctx = { ...this.ctx, send: (data: Buffer, onError: (err: Error) => void) => this.sendNow(data, onError) };
      const tx = new NonInviteClientTransaction(ctx, request, end, () => end(null));
      this.probes.add(end);
      this.transactions.set(branch, tx);
      tx.start(Math.max(0, timeoutMs));
    });
  }

  /** Ends in-flight calls (one CANCEL each where a provisional arrived), then closes the socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const call of this.calls.values()) call.abandon();
    for (const dialog of [...(this.voice?.dialogs.values() ?? [])]) dialog.stop("closed");
    const media = this.voice?.host.close();
    for (const end of [...this.probes]) end(null);
    for (const tx of this.transactions.values()) tx.stop();
    this.transactions.clear();
    this.closed = true;
    this.finished.clear();
    this.wheel.stop();
    if (this.refresh) clearTimeout(this.refresh);
    await Promise.all([media, this.transport.close()]);
  }

  private send(data: Buffer, onError: (err: Error) => void): void {
    if (this.closed) return;
    this.tap?.("out", data);
    this.transport.send(data, onError);
  }

  private sendNow(data: Buffer, onError: (err: Error) => void): void {
    if (this.closed) return;
    this.tap?.("out", data);
    this.transport.sendNow(data, onError);
  }

  private onMessage(data: Buffer): void {
    this.tap?.("in", data);
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
    else this.transactions.get(branch)?.onResponse(msg.status);
  }

  /** We place calls only, but answer what a trunk may send us: keepalive OPTIONS and BYEs crossing ours. */
  private onRequest(msg: SipMessage): void {
    if (msg.method === "ACK" || msg.via.length === 0) return;
    if (msg.method === "BYE" && msg.callId !== null) this.voice?.dialogs.get(msg.callId)?.remoteHangUp();
    const ok = msg.method === "OPTIONS" || msg.method === "BYE";
    const response = ok ? formatResponse(msg, 200, "OK") : formatResponse(msg, 501, "Not Implemented");
    this.send(Buffer.from(response), noop);
  }

  /**
   * `unreachable`: on a connected UDP socket ICMP port/host unreachable arrives here, not tied to a datagram. Every
   * request goes to the same next hop, so it fails the calls still waiting for a first response from it; calls the
   * hop already answered continue on their own timers.
   *
   * `connection_lost`: the TCP/TLS connection closed under every call. Their responses can no longer reach us, so
   * each ends `network_error` at once (a trunk layer may fail over), after a CANCEL on a new connection so that a
   * proxy that got the INVITE stops ringing the phone. Probes waiting on it answer null.
   */
  private onTransportFailure(kind: "unreachable" | "connection_lost"): void {
    if (kind === "unreachable") {
      for (const call of this.calls.values()) if (!call.responded) call.fail("network_error");
      return;
    }
    for (const call of this.calls.values()) call.connectionLost();
    for (const end of [...this.probes]) end(null);
  }
}

function noop(): void {}
