/**
 * The public contract of the SIP layer. The flash-call channel adapter is written against these names, so they
 * live apart from the implementation and change only on purpose.
 */

/** Why a call ended, as one value the verification core can act on. */
export type CallReason =
  | "ringing_canceled" // rang, we cancelled after the ring time (487) — the normal flash-call outcome
  | "busy" // 486, 600
  | "not_found" // 404, 410, 604
  | "rejected" // 603, 3xx, and other 4xx/6xx not listed here
  | "unreachable" // 480
  | "blocked_by_carrier" // 607, 608
  | "no_answer" // provisional but no 18x within maxDialMs
  | "timeout" // no response at all (Timer B or maxDial before any response), or 408
  | "answered" // 2xx: we ACKed and sent BYE
  | "network_error"; // 5xx, ICMP/socket errors, send failures

/** The one record every placed call ends in. */
export interface CallRecord {
  callId: string;
  /** Epoch ms, first INVITE sent. */
  startedAt: number;
  /** Epoch ms of the first 180/183, or null. */
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
  /** Called once, on the first 180/183, with its epoch ms. Must not throw (an exception becomes a process warning). */
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
