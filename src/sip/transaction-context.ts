/**
 * What a client transaction needs from the UAC that owns the socket: the shared timer wheel, the RFC 3261 timer
 * values and a way to send. Passing this narrow object (rather than the UAC) keeps the transactions testable and
 * keeps socket ownership in one place.
 */
import type { TimerWheel } from "./timer-wheel.js";

export interface TransactionContext {
  readonly wheel: TimerWheel;
  /** RFC 3261 T1 (RTT estimate), ms. */
  readonly t1: number;
  /** RFC 3261 T2 (cap on non-INVITE retransmission interval), ms. */
  readonly t2: number;
  /** TCP or TLS: the transport delivers, so requests are not retransmitted (Timers A and E, §17.1.1.2, §17.1.2.2). */
  readonly reliable: boolean;
  /** Timer B / Timer F: how long a transaction waits for a final response, ms. */
  readonly timerB: number;
  /** Sends one datagram to the next hop; `onError` runs if the kernel refuses it. */
  send(data: Buffer, onError: (err: Error) => void): void;
}
