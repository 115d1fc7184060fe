/**
 * The UAC's path to its one next hop (the trunk or its outbound proxy): a connected UDP socket, or one TCP/TLS
 * connection (stream-transport.ts). The UAC sees messages in and a way to send; what failed is reported as one
 * of two kinds, because they affect different calls.
 */
import type { Socket } from "node:dgram";
import type { HopAddress } from "./dns.js";
import { closeUdpSocket, openUdpSocket } from "./udp-socket.js";

export interface TransportEvents {
  /** One complete SIP message. */
  onMessage(data: Buffer): void;
  /**
   * `unreachable`: UDP only, an ICMP error for some earlier datagram; calls not yet answered are affected.
   * `connection_lost`: TCP/TLS, the connection every call's transactions ran on closed; all calls are affected.
   */
  onFailure(kind: "unreachable" | "connection_lost", error: Error): void;
}

export interface NextHopTransport {
  /** "UDP", "TCP" or "TLS", as Via writes it. */
  readonly protocol: "UDP" | "TCP" | "TLS";
  /** TCP and TLS deliver or fail: no retransmissions (RFC 3261 §17.1.1.2). */
  readonly reliable: boolean;
  /** The local address requests advertise (Via, Contact); for a stream, of the current connection. */
  readonly local: { address: string; port: number };
  /** Sends one message; `onError` runs (never synchronously) when it cannot be delivered to the next hop. */
  send(data: Buffer, onError: (err: Error) => void): void;
  /** Sends to the next hop at once, bypassing a reconnect backoff (a health probe wants to know now). */
  sendNow(data: Buffer, onError: (err: Error) => void): void;
  /** DNS gave new addresses: later sends (UDP) or the next connection (TCP/TLS) use them. */
  retarget(candidates: readonly HopAddress[]): void;
  close(): Promise<void>;
}

export interface UdpTransportOptions {
  localAddress: string;
  localPort: number;
  receiveBufferBytes: number | undefined;
  sendBufferBytes: number | undefined;
  candidates: readonly HopAddress[];
}

/**
 * A UDP socket connected to the next hop: sends need no address, the kernel drops datagrams from anyone else and
 * reports ICMP unreachables to us.
 */
export class UdpTransport implements NextHopTransport {
  readonly protocol = "UDP";
  readonly reliable = false;
  readonly local: { address: string; port: number };
  /** Set while the socket moves to a new address: sends carry the address explicitly meanwhile. */
  private moving: HopAddress | null = null;

  static async open(options: UdpTransportOptions, events: TransportEvents): Promise<UdpTransport> {
    const hop = options.candidates[0];
    if (!hop) throw new Error("no address for the next hop");
    const socket = await openUdpSocket({
      address: options.localAddress,
      port: options.localPort,
      receiveBufferBytes: options.receiveBufferBytes,
      sendBufferBytes: options.sendBufferBytes,
      connectTo: { host: hop.address, port: hop.port },
    });
    return new UdpTransport(socket, hop, events);
  }

  private constructor(
    private readonly socket: Socket,
    private hop: HopAddress,
    events: TransportEvents,
  ) {
    // Bound to a wildcard address, getsockname after connect still names the route's source address.
    const { address, port } = socket.address();
    this.local = { address, port };
    socket.on("message", (data) => events.onMessage(data));
    socket.on("error", (err) => events.onFailure("unreachable", err));
  }

  send(data: Buffer, onError: (err: Error) => void): void {
    const callback = (err: Error | null) => {
      if (err) onError(err);
    };
    if (this.moving) this.socket.send(data, this.moving.port, this.moving.address, callback);
    else this.socket.send(data, callback);
  }

  sendNow(data: Buffer, onError: (err: Error) => void): void {
    this.send(data, onError);
  }

  retarget(candidates: readonly HopAddress[]): void {
    const next = candidates[0];
    if (!next || (next.address === this.hop.address && next.port === this.hop.port) || this.moving) return;
    this.hop = next;
    this.moving = next;
    this.socket.disconnect();
    this.socket.connect(next.port, next.address, () => {
      this.moving = null;
    });
  }

  close(): Promise<void> {
    return closeUdpSocket(this.socket);
  }
}
