/**
 * A SIP UAS for the trunks' inbound INVITEs (the reverse flash call), over UDP and TCP on one address and port, and
 * TLS (RFC 3261 §26.3.1, the trunk authenticating us by our certificate) on a port of its own when configured. It
 * never answers a call: every INVITE gets one final error response before answer (RFC 3261 §17.2.1 INVITE server
 * transaction), so the call costs the caller nothing.
 *
 * - Requests from addresses that are not trunks get one 403 (never retransmitted) and go no further; their TCP and
 *   TLS connections close with it, or when idle for 64*T1.
 * - Over UDP the final response is retransmitted (Timer G: T1, doubling up to T2) until the ACK arrives or Timer H
 *   (64*T1) gives up; a retransmitted INVITE is answered with the same response, never decided twice.
 * - CANCEL is answered 200 (RFC 3261 §9.2): the INVITE's own final response follows as decided. OPTIONS (a trunk's
 *   keepalive) gets 200; any other request 405.
 */
import type { Socket } from "node:dgram";
import { createServer, type Server, type Socket as TcpSocket } from "node:net";
import { createServer as createTlsServer, type Server as TlsServer } from "node:tls";
import { ExpiringMap } from "../expiring-map.js";
import { newTag } from "../ids.js";
import { formatResponse, headerParam, parseMessage, type SipMessage } from "../message.js";
import { StreamFramer } from "../stream-framer.js";
import { TimerWheel } from "../timer-wheel.js";
import { closeUdpSocket, openUdpSocket } from "../udp-socket.js";

export type InboundTransport = "udp" | "tcp" | "tls";

export interface InboundInvite {
  transport: InboundTransport;
  source: { address: string; port: number };
  message: SipMessage;
}

/** The final response an INVITE gets: an error code (4xx-6xx), its reason phrase, extra header lines. */
export interface InboundAnswer {
  status: number;
  phrase: string;
  headers?: readonly string[];
}

export interface InboundListenerOptions {
  address: string;
  /** 0: any free port (the same one for UDP and TCP) */
  port: number;
  transports: readonly ("udp" | "tcp")[];
  /** TLS on its own port (0: any free one): our certificate chain and key, PEM */
  tls?: { port: number; cert: string; key: string } | undefined;
  /** whether a request from this address comes from a trunk */
  trusted: (address: string) => boolean;
  /** decides the final response of an INVITE from a trunk */
  onInvite: (invite: InboundInvite) => Promise<InboundAnswer>;
  /** a request from an address that is no trunk was refused with 403 */
  onUntrusted?: (source: { address: string; port: number }) => void;
  onError?: (error: unknown) => void;
  /** RFC 3261 T1; default 500 ms */
  t1Ms?: number;
}

interface Completed {
  response: string;
  send: (text: string) => void;
  acked: boolean;
}

const T2_MS = 4000;
const FORBIDDEN: InboundAnswer = { status: 403, phrase: "Forbidden" };

export class InboundListener {
  private readonly wheel = new TimerWheel();
  /** INVITEs being decided: a retransmission of one waits for its answer */
  private readonly deciding = new Set<string>();
  /** INVITEs answered: a retransmission gets the same response; the ACK stops Timer G */
  private readonly completed: ExpiringMap<string, Completed>;
  private readonly t1Ms: number;
  private readonly connections = new Set<TcpSocket>();

  private constructor(
    private readonly options: InboundListenerOptions,
    private readonly udp: Socket | null,
    private readonly tcp: Server | null,
    readonly local: { address: string; port: number },
    private readonly tls: TlsServer | null = null,
  ) {
    this.t1Ms = options.t1Ms ?? 500;
    this.completed = new ExpiringMap(64 * this.t1Ms + 5000);
  }

  /** Binds UDP and TCP on one port (when port is 0, the first free one both can take). */
  static async start(options: InboundListenerOptions): Promise<InboundListener> {
    const wantUdp = options.transports.includes("udp");
    const wantTcp = options.transports.includes("tcp");
    for (let attempt = 0; ; attempt++) {
      const udp = wantUdp ? await openUdpSocket({ address: options.address, port: options.port }) : null;
      const port = udp ? udp.address().port : options.port;
      const tcp = wantTcp ? await listenTcp(options.address, port).catch((error: unknown) => error as Error) : null;
      if (tcp instanceof Error) {
        if (udp) await closeUdpSocket(udp);
        // Another process holds the TCP side of the port UDP was given: try another free one.
        if (options.port === 0 && attempt < 10) continue;
        throw tcp;
      }
      const bound = udp ? udp.address().port : ((tcp as Server).address() as { port: number }).port;
      const tls = options.tls ? await listenTls(options.address, options.tls) : null;
      const listener = new InboundListener(options, udp, tcp, { address: options.address, port: bound }, tls);
      listener.attach();
      return listener;
    }
  }

  /** The TLS listener's port; null without TLS. */
  get tlsPort(): number | null {
    return this.tls ? (this.tls.address() as { port: number }).port : null;
  }

  async close(): Promise<void> {
    this.wheel.stop();
    this.completed.clear();
    for (const connection of this.connections) connection.destroy();
    if (this.udp) await closeUdpSocket(this.udp);
    if (this.tcp) await new Promise<void>((resolve) => this.tcp?.close(() => resolve()));
    if (this.tls) await new Promise<void>((resolve) => this.tls?.close(() => resolve()));
  }

  private attach(): void {
    this.udp?.on("message", (data, rinfo) => {
      const source = { address: rinfo.address, port: rinfo.port };
      const send = (text: string) => this.udp?.send(text, rinfo.port, rinfo.address);
      this.receive(data.toString("utf8"), "udp", source, send);
    });
    this.udp?.on("error", (error) => this.options.onError?.(error));
    this.tcp?.on("connection", (connection) => this.accept(connection, "tcp"));
    this.tls?.on("secureConnection", (connection) => this.accept(connection, "tls"));
  }

  private accept(connection: TcpSocket, transport: "tcp" | "tls"): void {
    this.connections.add(connection);
    const framer = new StreamFramer();
    const source = { address: connection.remoteAddress ?? "", port: connection.remotePort ?? 0 };
    const trusted = this.options.trusted(source.address);
    const send = (text: string) => {
      if (connection.destroyed) return;
      // An address that is no trunk holds no connection: it is closed with its 403, or when idle for 64*T1.
      if (trusted) connection.write(text);
      else connection.end(text);
    };
    if (!trusted) connection.setTimeout(64 * this.t1Ms, () => connection.destroy());
    connection.on("data", (chunk: Buffer) => {
      try {
        framer.push(
          chunk,
          (message) => this.receive(message.toString("utf8"), transport, source, send),
          () => send("\r\n"),
        );
      } catch {
        connection.destroy(); // not SIP: the stream cannot be re-synced
      }
    });
    connection.on("error", () => connection.destroy());
    connection.on("close", () => this.connections.delete(connection));
  }

  private receive(
    text: string,
    transport: InboundTransport,
    source: { address: string; port: number },
    send: (text: string) => void,
  ): void {
    const message = parseMessage(text);
    if (message?.status !== 0 || message.via.length === 0) return;
    // An address that is no trunk gets one 403 and leaves no state: no Timer G retransmissions to a source a UDP
    // packet may have forged (a reflector), and no way to answer, ACK or CANCEL a trunk's transaction by its key.
    if (!this.options.trusted(source.address)) {
      if (message.method !== "ACK") send(this.forbid(message, source));
      return;
    }
    const key = transactionKey(message);
    switch (message.method) {
      case "INVITE":
        this.invite(message, key, { transport, source, message }, send);
        return;
      case "ACK":
        this.acked(key);
        return;
      case "CANCEL": {
        const known = this.deciding.has(key) || this.completed.get(key) !== undefined;
        send(formatResponse(message, known ? 200 : 481, known ? "OK" : "Call/Transaction Does Not Exist"));
        return;
      }
      case "OPTIONS":
        send(formatResponse(message, 200, "OK"));
        return;
      default:
        send(formatResponse(message, 405, "Method Not Allowed", { headers: ["Allow: INVITE, ACK, CANCEL, OPTIONS"] }));
    }
  }

  private invite(message: SipMessage, key: string, invite: InboundInvite, send: (text: string) => void): void {
    const done = this.completed.get(key);
    if (done) {
      send(done.response);
      return;
    }
    if (this.deciding.has(key)) return;
    this.deciding.add(key);
    this.options.onInvite(invite).then(
      (answer) => {
        this.deciding.delete(key);
        this.complete(key, invite.transport, respond(message, answer), send);
      },
      (error: unknown) => {
        this.deciding.delete(key);
        this.options.onError?.(error);
        this.complete(key, invite.transport, formatResponse(message, 500, "Server Internal Error"), send);
      },
    );
  }

  private forbid(message: SipMessage, source: { address: string; port: number }): string {
    this.options.onUntrusted?.(source);
    return respond(message, FORBIDDEN);
  }

  /** Sends the final response; over UDP it goes again on Timer G until the ACK or Timer H. */
  private complete(key: string, transport: InboundTransport, response: string, send: (text: string) => void): void {
    const entry: Completed = { response, send, acked: false };
    this.completed.set(key, entry);
    send(response);
    if (transport !== "udp") return;
    const deadline = 64 * this.t1Ms;
    const timerG = (interval: number, elapsed: number) => {
      this.wheel.schedule(interval, () => {
        if (entry.acked || elapsed + interval >= deadline) return;
        entry.send(entry.response);
        timerG(Math.min(interval * 2, T2_MS), elapsed + interval);
      });
    };
    timerG(this.t1Ms, 0);
  }

  private acked(key: string): void {
    const entry = this.completed.get(key);
    if (entry) entry.acked = true;
  }
}

/** Our To tag: one per response, as each INVITE is its own (never established) dialog. */
function respond(message: SipMessage, answer: InboundAnswer): string {
  const options = answer.headers ? { toTag: newTag(), headers: answer.headers } : { toTag: newTag() };
  return formatResponse(message, answer.status, answer.phrase, options);
}

/** RFC 3261 §17.2.3: the top Via's branch and sent-by; an ACK for a non-2xx and a CANCEL carry the INVITE's. */
function transactionKey(message: SipMessage): string {
  const top = message.via[0] as string;
  const sentBy = top.split(/\s+/)[1]?.split(";")[0] ?? "";
  return `${headerParam(top, "branch") ?? ""}|${sentBy}`;
}

function listenTcp(address: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, address, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}

function listenTls(address: string, options: { port: number; cert: string; key: string }): Promise<TlsServer> {
  return new Promise((resolve, reject) => {
    const server = createTlsServer({ cert: options.cert, key: options.key });
    // A handshake that fails (a scanner, a wrong certificate) ends that connection only.
    server.on("tlsClientError", (_error, socket) => socket.destroy());
    server.once("error", reject);
    server.listen(options.port, address, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}
