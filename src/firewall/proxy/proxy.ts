/**
 * The real-time firewall: a stateless SIP proxy (RFC 3261 §16.11) for an interconnect, on UDP and TCP at one
 * address. Each new INVITE is scored by the classifier and the policy passes it, tags it, rejects it or routes it to
 * another next hop; everything else is forwarded as a stateless proxy does, with just enough per-call state
 * (calls.ts) to see each call's outcome and teach the classifier. The classifier can fail without stopping a
 * call: any error in it passes the call untouched and is counted (fail open).
 *
 * @example
 * const proxy = await FirewallProxy.start({ address: "10.0.0.2", port: 5060, nextHop: { host: "10.0.0.9", port: 5060 }, config });
 */
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { connect, createServer, type Server, type Socket } from "node:net";
import { addressUri, formatResponse, headerParam, parseMessage, type SipMessage, uriUser } from "../../sip/message.js";
import { StreamFramer } from "../../sip/stream-framer.js";
import { type Explain, FlashClassifier, type InviteVerdict, type Verdict } from "../classifier.js";
import type { FirewallConfig } from "../config.js";
import type { CallSetup } from "../features.js";
import type { CallOutcome } from "../history.js";
import { CallTracker, type TrackedCall } from "./calls.js";
import { LatencyRecorder } from "./latency.js";
import { ProxyMetrics } from "./metrics.js";
import { type Action, decide, PASS, tagValue } from "./policy.js";
import {
  decrementMaxForwards,
  fnv1a,
  insertAfterStartLine,
  popOwnRoute,
  popVia,
  pushVia,
  stampReceived,
  uriTarget,
  viaTarget,
} from "./wire.js";

/** What the proxy asks of a classifier (FlashClassifier, or anything standing in for it). */
export interface CallClassifier {
  atInvite(call: CallSetup, explain?: Explain): InviteVerdict;
  atEnd(call: CallOutcome, pairBefore: number, explain?: Explain): Verdict;
}

export interface ProxyOptions {
  address: string;
  /** default 0: any free port (UDP and TCP share it) */
  port?: number;
  /** the operator's core, where calls go unless a policy routes them elsewhere */
  nextHop: { host: string; port: number };
  config: FirewallConfig;
  /** default: a FlashClassifier with the default models */
  classifier?: CallClassifier;
  /** socket buffer sizes; default 4 MiB (TELECOM-NOTES.md: loopback SIP at 10,000/s needs them) */
  bufferBytes?: number;
  /** the ended call with its end-of-call verdict, for logs and reports */
  onCallEnd?: (call: TrackedCall, verdict: Verdict) => void;
}

type Transport = "udp" | "tcp";
interface From {
  transport: Transport;
  address: string;
  port: number;
  /** the TCP connection it came on */
  conn: number;
}

export class FirewallProxy {
  classifier: CallClassifier;
  readonly latency = new LatencyRecorder();
  readonly metrics = new ProxyMetrics();
  readonly tracker: CallTracker;
  private readonly conns = new Map<number, Socket>();
  private readonly outbound = new Map<string, number>();
  private nextConn = 1;
  private readonly sweeper: NodeJS.Timeout;
  /** the lowest score a tag rule acts on: only the tag header shows an INVITE's factors */
  private readonly explainFrom: number;

  private recordLatency(t0: bigint): void {
    const ns = process.hrtime.bigint() - t0;
    this.latency.record(ns);
    this.metrics.addedLatency.observe(Number(ns) / 1e9);
  }

  private constructor(
    private readonly options: ProxyOptions,
    private readonly udp: UdpSocket,
    private readonly tcp: Server,
    readonly local: { address: string; port: number },
  ) {
    this.classifier = options.classifier ?? new FlashClassifier(options.config);
    this.explainFrom = Math.min(
      Number.POSITIVE_INFINITY,
      ...options.config.policy.filter((r) => r.action === "tag").map((r) => r.min_score),
    );
    this.tracker = new CallTracker((call, outcome) => this.ended(call, outcome));
    udp.on("message", (buf, rinfo) => {
      const t0 = process.hrtime.bigint();
      this.receive(buf.toString("latin1"), { transport: "udp", address: rinfo.address, port: rinfo.port, conn: 0 }, t0);
    });
    tcp.on("connection", (socket) => this.adopt(socket, null));
    this.sweeper = setInterval(() => this.tracker.sweep(Date.now()), 1000);
    this.sweeper.unref();
  }

  static async start(options: ProxyOptions): Promise<FirewallProxy> {
    const buffer = options.bufferBytes ?? 4 * 1024 * 1024;
    for (let attempt = 1; ; attempt++) {
      const udp = createSocket({ type: "udp4", recvBufferSize: buffer, sendBufferSize: buffer });
      await new Promise<void>((resolve, reject) => {
        udp.once("error", reject);
        udp.bind(options.port ?? 0, options.address, () => resolve());
      });
      const port = udp.address().port;
      const tcp = createServer({ noDelay: true });
      try {
        await new Promise<void>((resolve, reject) => {
          tcp.once("error", reject);
          tcp.listen(port, options.address, () => resolve());
        });
      } catch (error) {
        udp.close();
        // The TCP port of an ephemeral UDP port can be taken: try another one.
        if (options.port || attempt >= 5) throw error;
        continue;
      }
      return new FirewallProxy(options, udp, tcp, { address: options.address, port });
    }
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    for (const socket of this.conns.values()) socket.destroy();
    await new Promise<void>((resolve) => this.tcp.close(() => resolve()));
    await new Promise<void>((resolve) => this.udp.close(() => resolve()));
  }

  private adopt(socket: Socket, key: string | null): number {
    const id = this.nextConn++;
    this.conns.set(id, socket);
    socket.setNoDelay(true);
    const framer = new StreamFramer();
    const from: From = {
      transport: "tcp",
      address: socket.remoteAddress ?? "",
      port: socket.remotePort ?? 0,
      conn: id,
    };
    socket.on("data", (chunk) => {
      const t0 = process.hrtime.bigint();
      try {
        framer.push(
          chunk,
          (m) => this.receive(m.toString("latin1"), from, t0),
          () => socket.write("\r\n"),
        );
      } catch {
        socket.destroy();
      }
    });
    const forget = () => {
      this.conns.delete(id);
      if (key && this.outbound.get(key) === id) this.outbound.delete(key);
    };
    socket.on("close", forget);
    socket.on("error", forget);
    return id;
  }

  private receive(text: string, from: From, t0: bigint): void {
    const msg = parseMessage(text);
    if (!msg?.callId || msg.via.length === 0) {
      this.metrics.dropped.inc();
      return;
    }
    try {
      if (msg.method) this.request(text, msg, from, t0);
      else this.response(text, msg);
    } catch (error) {
      this.metrics.errors.inc();
      this.metrics.dropped.inc();
      void error;
    }
  }

  private isOurs(host: string, port: number): boolean {
    return port === this.local.port && host === this.local.address;
  }

  private request(text: string, msg: SipMessage, from: From, t0: bigint): void {
    const now = Date.now();
    const callId = msg.callId as string;
    let out = decrementMaxForwards(text);
    if (out === null) {
      if (msg.method !== "ACK") this.reply(msg, from, 483, "Too Many Hops", []);
      return;
    }
    out = popOwnRoute(out, (route) => {
      const t = uriTarget(addressUri(route));
      return this.isOurs(t.host, t.port);
    });
    const target = uriTarget(msg.uri);
    const toUs = this.isOurs(target.host, target.port);
    let call = this.tracker.get(callId);
    let dest = toUs ? (call ?? this.options.nextHop) : target;
    const initialInvite = msg.method === "INVITE" && (!msg.to || headerParam(msg.to, "tag") === null);

    if (initialInvite) {
      if (!call) {
        call = this.newCall(msg, from, now);
        this.tracker.add(callId, call);
      } else if (msg.cseq !== call.cseq) {
        call.cseq = msg.cseq; // the same call again with credentials, after a 401/407
      }
      const action = call.action;
      if (action.action === "reject") {
        this.reply(msg, from, action.code, reasonPhrase(action.code), [
          `Reason: SIP;cause=${action.code};text="${action.reason.replace(/"/g, "'")}"`,
        ]);
        this.recordLatency(t0);
        return;
      }
      if (action.action === "tag" && call.verdict)
        out = insertAfterStartLine(out, `${action.header}: ${tagValue(call.verdict)}\r\n`);
      if (toUs) dest = call;
      const transportParam = from.transport === "tcp" ? ";transport=tcp" : "";
      out = insertAfterStartLine(
        out,
        `Record-Route: <sip:${this.local.address}:${this.local.port};lr${transportParam}>\r\n`,
      );
    } else if (call) {
      if (call.action.action === "reject") {
        // The ACK of our own rejection ends here; a CANCEL of it is answered (the INVITE is already final).
        if (msg.method === "CANCEL") this.reply(msg, from, 200, "OK", []);
        return;
      }
      if (msg.method === "CANCEL") this.tracker.cancel(call, now);
      else if (msg.method === "BYE") this.tracker.bye(call, now);
    }

    if (from.transport === "udp") out = stampReceived(out, from.address, from.port);
    const branch = `z9hG4bK-fw${fnv1a(`${headerParam(msg.via[0] as string, "branch") ?? ""}|${callId}`)}${fnv1a(callId, 0x1234567)}`;
    const connParam = from.transport === "tcp" ? `;fwc=${from.conn}` : "";
    const via = `SIP/2.0/${from.transport.toUpperCase()} ${this.local.address}:${this.local.port};branch=${branch}${connParam}`;
    this.send(pushVia(out, via), from.transport, dest.host, dest.port, 0);
    this.metrics.forwarded.inc();
    if (initialInvite) this.recordLatency(t0);
  }

  /** Classifies a new call set-up and decides on it; any failure of the classifier passes the call (fail open). */
  private newCall(msg: SipMessage, from: From, now: number): TrackedCall {
    const setup: CallSetup = {
      caller: normalise(uriUser(addressUri(msg.from ?? ""))),
      callee: normalise(uriUser(msg.uri)),
      source: `${from.transport}:${from.address}`,
    };
    let verdict: InviteVerdict | null = null;
    let action: Action = PASS;
    try {
      verdict = this.classifier.atInvite(setup, this.explainFrom);
      action = decide(this.options.config.policy, verdict);
    } catch {
      this.metrics.failOpen.inc({ stage: "invite" });
    }
    this.metrics.invites.inc({ action: action.action });
    const hop = action.action === "route" ? action : this.options.nextHop;
    return {
      ...setup,
      cseq: msg.cseq,
      verdict,
      action,
      host: hop.host,
      port: hop.port,
      setupAt: now,
      ringAt: 0,
      cancelAt: 0,
      answeredAt: 0,
      finalCode: 0,
      endedAt: 0,
    };
  }

  private ended(call: TrackedCall, outcome: CallOutcome): void {
    try {
      const verdict = this.classifier.atEnd(outcome, call.verdict?.pairBefore ?? 0, "flagged");
      this.metrics.ended.inc({ label: verdict.label });
      this.options.onCallEnd?.(call, verdict);
    } catch {
      this.metrics.failOpen.inc({ stage: "end" });
    }
  }

  private response(text: string, msg: SipMessage): void {
    const ours = viaTarget(msg.via[0] as string);
    const next = msg.via[1];
    if (!this.isOurs(ours.host, ours.port) || !next) {
      this.metrics.dropped.inc();
      return;
    }
    if (msg.cseqMethod === "INVITE") {
      const call = this.tracker.get(msg.callId as string);
      if (call) this.tracker.inviteResponse(call, msg.status, Date.now());
    }
    const back = viaTarget(next);
    const host = back.params.get("received") || back.host;
    const port = Number(back.params.get("rport")) || back.port;
    const transport: Transport = back.transport === "TCP" ? "tcp" : "udp";
    this.send(popVia(text), transport, host, port, Number(ours.params.get("fwc") ?? 0));
    this.metrics.forwarded.inc();
  }

  private reply(msg: SipMessage, from: From, status: number, phrase: string, headers: string[]): void {
    const text = formatResponse(msg, status, phrase, { toTag: `fw${fnv1a(msg.callId ?? "")}`, headers });
    this.send(text, from.transport, from.address, from.port, from.conn);
  }

  private send(text: string, transport: Transport, host: string, port: number, conn: number): void {
    const buf = Buffer.from(text, "latin1");
    if (transport === "udp") {
      this.udp.send(buf, port, host);
      return;
    }
    const socket = (conn && this.conns.get(conn)) || this.connection(host, port);
    socket.write(buf);
  }

  /** The TCP connection to `host:port`, opened on first use; writes before it connects are queued by Node. */
  private connection(host: string, port: number): Socket {
    const key = `${host}:${port}`;
    const id = this.outbound.get(key);
    const existing = id === undefined ? undefined : this.conns.get(id);
    if (existing) return existing;
    const socket = connect({ host, port, localAddress: this.local.address, noDelay: true });
    this.outbound.set(key, this.adopt(socket, key));
    return socket;
  }
}

/** A caller or callee as E.164 where the user part allows it (`+4420...`, `4420...;npdi` -> `+4420...`). */
function normalise(user: string): string {
  const digits = user.startsWith("+") ? user.slice(1) : user;
  return /^[0-9]{6,15}$/.test(digits) ? `+${digits}` : user;
}

function reasonPhrase(code: number): string {
  return REASONS[code] ?? "Rejected";
}

const REASONS: Record<number, string> = {
  403: "Forbidden",
  404: "Not Found",
  480: "Temporarily Unavailable",
  486: "Busy Here",
  488: "Not Acceptable Here",
  503: "Service Unavailable",
  603: "Decline",
  607: "Unwanted",
  608: "Rejected",
};
