/**
 * The public contract of the SIP layer. The flash-call channel adapter is written against these names, so they
 * live apart from the implementation and change only on purpose.
 */

/**
 * Why a call ended, as one value the verification core can act on. For calls we end ourselves (ring time over,
 * `cancel()`, `close()`) it is decided when the record settles, from what the network showed by then.
 */
export type CallReason =
  | "ringing_canceled" // rang (a 18x before the final), then we cancelled: 487, or no final — the normal outcome
  | "busy" // 486, 600
  | "not_found" // 404, 410, 604
  | "rejected" // 603, 3xx, and other 4xx/6xx not listed here
  | "unreachable" // 480
  | "blocked_by_carrier" // 607, 608
  | "no_answer" // provisional but no 18x within maxDialMs, or before we cancelled (a later 18x sets ringingAt only)
  | "timeout" // no response at all (Timer B, maxDial or our cancel before any response), or 408
  | "answered" // 2xx: we ACKed and sent BYE
  | "network_error"; // 5xx, ICMP/socket errors, send failures

/** The one record every placed call ends in. */
export interface CallRecord {
  callId: string;
  /** Epoch ms, first INVITE sent. */
  startedAt: number;
  /** Epoch ms of the first 180/183 before the final (also one that crossed our CANCEL), or null. */
  ringingAt: number | null;
  endedAt: number;
  /** Final status received, null when none. */
  finalCode: number | null;
  reason: CallReason;
  /** The Reason header of the final, if any. */
  reasonHeader: string | null;
}

export interface PlaceCallOptions {
  /** Destination E.164, e.g. "+447400123456". */
  to: string;
  /** Caller ID E.164, e.g. "+442079412345"; it carries the code. */
  cli: string;
  /** Ring this long after the first 18x, then CANCEL (0 = at once). */
  ringTimeMs: number;
  /** Give up (CANCEL) if no 18x by then. */
  maxDialMs: number;
  /**
   * Called once, on the first 180/183 (also one after our CANCEL), with its epoch ms, before `done` resolves.
   * Must not throw (an exception becomes a process warning).
   */
  onRinging?: (at: number) => void;
}

export interface SipUacOptions {
  /** Default "127.0.0.1". */
  localAddress?: string;
  /** Default 0 (ephemeral). */
  localPort?: number;
  /** Next hop (trunk/SBC/sandbox handsets); every request goes there and only its datagrams are accepted. */
  target: { host: string; port: number };
  /** Host part of URIs. Default `target.host`. */
  domain?: string;
  /** Default "flashverify". */
  userAgent?: string;
  /** Socket receive buffer. Default 4 MiB. */
  receiveBufferBytes?: number;
  /** Socket send buffer. Default 4 MiB. */
  sendBufferBytes?: number;
  /** RFC 3261 T1. Default 500. */
  t1Ms?: number;
  /** INVITE Timer B, also the wait for a final after CANCEL. Default 64 * t1. */
  timerBMs?: number;
  /** How long a finished call still answers retransmitted finals (re-ACK). Default 64 * t1 (Timer D's 32 s). */
  timerDMs?: number;
  /** Clock for the timestamps in records (timers use a monotonic clock). Default Date.now. */
  now?: () => number;
}

/** A call in progress. */
export interface PlacedCall {
  callId: string;
  /** Resolves exactly once; never rejects. */
  done: Promise<CallRecord>;
  /** Ends the call early: CANCEL once a provisional has arrived (RFC 3261 §9.1). */
  cancel(): void;
}

/**
 * What places flash calls: `SipUac` on the calling thread, or `startSipUacWorker()`'s caller that runs one in a
 * worker thread. The flash-call channel is written against this.
 */
export interface FlashCaller {
  /** The bound socket address (what Via and Contact advertise). */
  readonly local: { address: string; port: number };
  /** Calls placed whose record has not been delivered yet. */
  readonly activeCalls: number;
  /**
   * Places a flash call: INVITE, ring `ringTimeMs` after the first 18x, CANCEL. `done` always resolves.
   * @throws RangeError when `to` or `cli` is not E.164; Error after close().
   */
  placeCall(options: PlaceCallOptions): PlacedCall;
  /** Ends in-flight calls (one CANCEL each where a provisional arrived; records settle), then releases the socket. */
  close(): Promise<void>;
}
