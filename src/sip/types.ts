/**
 * The public contract of the SIP layer. The flash-call channel adapter is written against these names, so they
 * live apart from the implementation and change only on purpose.
 */
import type { SendTiming } from "../media/media-clock.js";
import type { PortRange } from "../media/port-range.js";
import type { VoicePrompt } from "../media/prompt.js";

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
  | "auth_failed" // a 401/407 challenge we could not answer, or answered and were challenged again
  | "network_error" // 5xx, ICMP/socket/connection errors, send failures
  | "no_route" // the trunk layer has no route for the destination: nothing was sent
  | "no_capacity"; // every trunk for the destination was out of service or at its limits until the queue deadline

/** How an answered voice call's media ended. */
export type MediaEndReason =
  | "completed" // the prompt, the menu and the wait for a key ran their course; we sent BYE
  | "remote_hangup" // the far end sent BYE first
  | "max_length" // the call reached maxCallMs; we sent BYE
  | "hung_up" // the caller asked to end it (the verification was over); we sent BYE
  | "no_media" // the answer's SDP accepted no G.711: we hung up at once
  | "closed"; // the UAC closed during the call

/** What the media of an answered voice call did. */
export interface CallMedia {
  end: MediaEndReason;
  /** The code was said in full at least once before the call ended. */
  codeHeard: boolean;
  /** Audio sent, ms. */
  playedMs: number;
  /** DTMF keys received (RFC 4733), in order. */
  dtmf: string;
  /** Times DTMF "1" replayed the code. */
  replays: number;
  /** "PCMU" or "PCMA"; null when none was agreed. */
  codec: string | null;
  packetsReceived: number;
  /** When each packet left against its 20 ms schedule; null without media. */
  timing: SendTiming | null;
}

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
  /** Voice calls: epoch ms of the 2xx, null when not answered. */
  answeredAt?: number | null;
  /** Voice calls that were answered: what the media did. */
  media?: CallMedia;
  /** A 503's Retry-After, in ms: the trunk asks for no calls for so long (the trunk layer honours it, bounded). */
  retryAfterMs?: number;
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
  /**
   * The user part of From and P-Asserted-Identity as the trunk wants the CLI written ("+442079412345",
   * "442079412345", "02079412345", "99#442079412345"). Default `cli`.
   */
  cliUser?: string;
  /** The user part of the Request-URI and To. Default `to`. */
  toUser?: string;
  /** Send P-Asserted-Identity (the CLI). Default true. */
  pAssertedIdentity?: boolean;
  /** Extra headers, in order: Identity (STIR/SHAKEN), Privacy, a carrier's custom headers. One line each. */
  headers?: ReadonlyArray<readonly [name: string, value: string]>;
  /**
   * A voice call instead of a flash call: the INVITE offers audio (SDP), and when the phone answers, the prompt is
   * played over RTP and the call ends with BYE. `ringTimeMs` is then how long it may ring unanswered. Needs the
   * UAC's `media` option.
   */
  media?: VoiceCallMedia;
}

/** A voice call's media: what it says, and how long it may last. */
export interface VoiceCallMedia {
  prompt: VoicePrompt;
  /** From the answer to our BYE; default 120 s */
  maxCallMs: number;
}

/** Digest credentials for a trunk (RFC 8760: MD5 and SHA-256, qop=auth). */
export interface DigestCredentials {
  username: string;
  password: string;
  /** Answer challenges only from this realm; default any. */
  realm?: string;
}

export type SipTransport = "udp" | "tcp" | "tls";

export interface SipUacOptions {
  /** Default "127.0.0.1". */
  localAddress?: string;
  /** Default 0 (ephemeral). */
  localPort?: number;
  /**
   * The trunk (carrier, SBC, sandbox handsets). A host name is resolved with DNS: SRV (`_sip._udp`, `_sip._tcp`,
   * `_sips._tcp`) when `port` is omitted, in priority and weight order, then A (AAAA for an IPv6 `localAddress`);
   * without SRV records, A/AAAA of the name on the default port. Resolved at start and again when the TTL runs out,
   * never per call; start-up fails when the name does not resolve. Default port 5060 (5061 for TLS).
   */
  target: { host: string; port?: number };
  /**
   * Send every request here instead of `target` (an outbound proxy, resolved the same way); the Request-URI and
   * To still name `domain`. Default none.
   */
  outboundProxy?: { host: string; port?: number };
  /**
   * Default "udp". TCP and TLS keep one connection to the next hop, reused by every call and reopened on demand
   * when it drops; they are not retransmitted over (no Timer A/E) and URIs say `;transport=tcp` or `sips:`. When the
   * connection drops, the calls on it end `network_error` (after a CANCEL on a new connection); when it cannot be
   * opened, calls end `network_error` at once, also during a reconnect backoff of 100 ms doubling to 5 s.
   */
  transport?: SipTransport;
  /**
   * TLS (transport "tls"): `ca` trusted CAs (PEM; default Node's bundled roots), `servername` the name the
   * certificate must carry (default the target's or proxy's host name; none for an IP literal), `cert`/`key` a
   * client certificate (PEM) for trunks that require one, `rejectUnauthorized` default true.
   */
  tls?: { ca?: string; servername?: string; cert?: string; key?: string; rejectUnauthorized?: boolean };
  /**
   * Answer 401/407 challenges with these (MD5 or SHA-256, `qop=auth` or none). Each INVITE answers at most one
   * challenge (plus one `stale=true`); being challenged again ends the call `auth_failed`. Later calls answer
   * pre-emptively with the last nonce and the next `nc`. Default none: a challenge ends the call `auth_failed`.
   */
  credentials?: DigestCredentials;
  /** DNS servers ("10.0.0.2", "127.0.0.1:5353") for resolving `target`/`outboundProxy`. Default: the system's. */
  dnsServers?: string[];
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
  /**
   * RTP for voice calls: each call binds an even port of `ports` at `address` (default `localAddress`) and offers
   * `advertisedAddress` (default `address`) in its SDP. `threads`: how many media threads send the calls' RTP, which
   * this UAC's thread reads (see media-split.ts); 0 sends it from this UAC's thread too; default 1. `priority`: the nice
   * value (-20..19) of the threads that send the RTP (the media threads; with `threads` 0, a worker thread running
   * this UAC); below 0 needs CAP_SYS_NICE or RLIMIT_NICE; default -10 where permitted, else unchanged
   * (media/rtp-priority.ts). Default none: voice calls are refused.
   */
  media?: { ports: PortRange; address?: string; advertisedAddress?: string; priority?: number; threads?: number };
  /**
   * Told every message sent (`out`) and received (`in`), before anything else is done with it (a trace: see
   * trace.ts). Must be cheap and must not throw. Default none.
   */
  tap?: (dir: "out" | "in", data: Buffer) => void;
}

/** A call in progress. */
export interface PlacedCall {
  callId: string;
  /** Resolves exactly once; never rejects. */
  done: Promise<CallRecord>;
  /** Ends the call early: CANCEL once a provisional has arrived (RFC 3261 §9.1); an answered voice call: BYE. */
  cancel(): void;
}

/**
 * What places flash calls: `SipUac` on the calling thread, or `startSipUacWorker()`'s caller that runs one in a
 * worker thread. The flash-call channel is written against this.
 */
export interface FlashCaller {
  /**
   * The local address Via and Contact advertise: the UDP socket's, or the TCP/TLS connection's (port 0 while none
   * is open; a worker-backed caller reports the one it had at start).
   */
  readonly local: { address: string; port: number };
  /** Calls placed whose record has not been delivered yet. */
  readonly activeCalls: number;
  /**
   * Places a flash call: INVITE, ring `ringTimeMs` after the first 18x, CANCEL. `done` always resolves.
   * @throws RangeError when `to` or `cli` is not E.164; Error after close().
   */
  placeCall(options: PlaceCallOptions): PlacedCall;
  /**
   * Sends OPTIONS to the next hop (a trunk health probe). Resolves with the final status code (any final means the
   * trunk is alive), or null when nothing answered within `timeoutMs` or the transport failed. Never rejects.
   */
  probe(timeoutMs?: number): Promise<number | null>;
  /** Ends in-flight calls (one CANCEL each where a provisional arrived; records settle), then releases the socket. */
  close(): Promise<void>;
}
