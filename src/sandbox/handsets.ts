/**
 * The virtual carrier's handsets: one SIP UAS on loopback that plays the phone of every destination, so the
 * sandbox (and the benchmark) can place real flash calls without a carrier. It records each call with the caller ID
 * it saw in `From`, the way an Android app reads the incoming number.
 *
 * Test numbers, by the destination's last four digits:
 * - `0486`: 486 Busy Here (result `busy`)
 * - `0404`: 404 Not Found (result `not_found`)
 * - `0408`: never responds at all (result `no_answer`; the caller times out)
 * - `0200`: 100, 180 then 200 OK at once — the phone answers before any CANCEL (result `answered`)
 * - anything else: 100, 180, rings until CANCEL (200 to the CANCEL, 487 to the INVITE; result `missed`), or 480
 *   after `ringTimeoutMs`
 *
 * Number ranges by prefix (test-numbers.ts), for flash calls (an INVITE without SDP) that would ring:
 * - `droppingPrefixes`: the operator drops flash calls silently. The carrier still answers 180 and, to the CANCEL,
 *   487, so the caller records a delivered call, but the phone records nothing and no callback fires.
 * - `latePrefixes`: the call rings as usual, but it shows in the phone's call log (and `onIncomingCall` fires) only
 *   `lateDeliveryMs` after it arrived.
 *
 * A voice call (an INVITE with an SDP audio offer) to a ringing number is answered after `voiceAnswerMs`: the
 * handset answers the offer (voice-recorder.ts), records the audio until the BYE and keeps it as a WAV in
 * `HandsetCall.voice` (the most recent `maxRecordings` calls keep theirs). An offer without G.711 gets 488.
 *
 * Transactions follow RFC 3261 for UDP: INVITE retransmissions get the last response again, finals are retransmitted
 * (Timer G, T1 doubling to T2) until the ACK or Timer H, and the 487 carries the INVITE's Via stack. Responses go to
 * the request's source address (what `rport` asks for, and what every peer on loopback expects).
 *
 * @example
 * const handsets = await VirtualHandsets.create({ port: 0 });
 * // ... place a call to +447400123456 at handsets.local ...
 * handsets.calls("+447400123456")[0]; // { from: "+442079412345", result: "missed", ... }
 */
import type { RemoteInfo, Socket } from "node:dgram";
import { parseSdp } from "../media/sdp.js";
import { invokeCallback } from "../sip/callbacks.js";
import { newTag } from "../sip/ids.js";
import {
  addressUri,
  formatResponse,
  headerParam,
  hostPort,
  parseMessage,
  type SipMessage,
  uriUser,
} from "../sip/message.js";
import { type TimerHandle, TimerWheel } from "../sip/timer-wheel.js";
import { closeUdpSocket, openUdpSocket } from "../sip/udp-socket.js";
import { SANDBOX_RANGES } from "./test-numbers.js";
import { VoiceRecorder } from "./voice-recorder.js";

export type HandsetCallResult = "ringing" | "missed" | "busy" | "not_found" | "no_answer" | "answered" | "rejected";

/** What the handset heard of an answered voice call. */
export interface HandsetVoice {
  answeredAt: number;
  /** null until the call ends */
  endedAt: number | null;
  codec: string;
  /** 8 kHz 16-bit PCM WAV of the audio received; null until the call ends, or once a newer recording displaced it */
  recording: Buffer | null;
}

export interface HandsetCall {
  callId: string;
  /** The called number: the Request-URI user part. */
  to: string;
  /** The caller ID: the From URI user part, E.164 with its leading "+". */
  from: string;
  receivedAt: number;
  result: HandsetCallResult;
  /** voice calls that were answered */
  voice?: HandsetVoice;
}

export interface VirtualHandsetsOptions {
  /** Default "127.0.0.2" (each loopback component gets its own address). */
  address?: string;
  /** Default 5060; 0 = ephemeral. */
  port?: number;
  /** Socket receive (and send) buffer. Default 4 MiB. */
  receiveBufferBytes?: number;
  /** Calls kept per phone, oldest dropped. Default 20. */
  maxCallsPerPhone?: number;
  /** Phones kept, least recently called dropped. Default 100_000. */
  maxPhones?: number;
  /** A phone nobody cancels stops ringing after this long with 480 (result `missed`). Default 60_000. */
  ringTimeoutMs?: number;
  /** RFC 3261 T1 for the final-response retransmissions (Timer G) and how long transactions are kept. Default 500. */
  t1Ms?: number;
  /** Clock for `receivedAt`. Default Date.now. */
  now?: () => number;
  /** How long a voice call rings before the handset answers it. Default 300. */
  voiceAnswerMs?: number;
  /** Voice recordings kept (the oldest is dropped). Default 50. */
  maxRecordings?: number;
  /** The longest a voice call is recorded without a BYE. Default 600_000. */
  maxVoiceCallMs?: number;
  /**
   * Called when an INVITE for a new call arrives (after 180 is sent), like an Android app reading the number.
   * Callbacks must not throw; if one does, the error becomes a process warning and the call carries on.
   */
  onIncomingCall?: (call: HandsetCall) => void;
  /** Called when a call reaches its final result. */
  onCallEnded?: (call: HandsetCall) => void;
  /** E.164 prefixes whose operator drops flash calls silently; default the sandbox's (SANDBOX_RANGES) */
  droppingPrefixes?: readonly string[];
  /** E.164 prefixes whose phones show a flash call late; default the sandbox's (SANDBOX_RANGES) */
  latePrefixes?: readonly string[];
  /** How late those phones show a call. Default 15_000. */
  lateDeliveryMs?: number;
}

/** How the phone's call log shows a flash call: at once, after `lateDeliveryMs`, or never (its operator dropped it). */
type Shown = "now" | "late" | "never";

type Behaviour = "ring" | "busy" | "not_found" | "silent" | "answer";

function behaviourFor(to: string): Behaviour {
  switch (to.slice(-4)) {
    case "0486":
      return "busy";
    case "0404":
      return "not_found";
    case "0408":
      return "silent";
    case "0200":
      return "answer";
    default:
      return "ring";
  }
}

/** A bare digit string gets its "+" so numbers compare as E.164 whatever the peer sent. */
function normaliseNumber(user: string): string {
  return /^\d+$/.test(user) ? `+${user}` : user;
}

/** Server-side state of one call (INVITE server transaction and, for answered calls, the dialog). */
class InboundCall {
  readonly toTag = newTag();
  interval: number;
  /** The INVITE, kept until its final response is built. */
  invite: SipMessage | null;
  lastResponse: Buffer | null = null;
  final: Buffer | null = null;
  acknowledged = false;
  retransmit: TimerHandle | null = null;
  timerH: TimerHandle | null = null;
  ringTimeout: TimerHandle | null = null;
  expiry: TimerHandle | null = null;
  /** A voice call's recorder, from its answer to its end. */
  recorder: VoiceRecorder | null = null;
  /** how the phone's call log shows it */
  shown: Shown = "now";

  constructor(
    readonly record: HandsetCall,
    readonly branch: string,
    readonly remote: RemoteInfo,
    invite: SipMessage,
    t1: number,
  ) {
    this.invite = invite;
    this.interval = t1;
  }

  stopTimers(): void {
    this.retransmit?.cancel();
    this.timerH?.cancel();
    this.ringTimeout?.cancel();
    this.expiry?.cancel();
  }
}

export class VirtualHandsets {
  /** The bound socket address. */
  readonly local: { address: string; port: number };
  private readonly wheel = new TimerWheel();
  private readonly inbound = new Map<string, InboundCall>();
  /** Calls by phone, newest first; Map order doubles as the least-recently-called order. */
  private readonly phones = new Map<string, HandsetCall[]>();
  private readonly maxCallsPerPhone: number;
  private readonly maxPhones: number;
  private readonly ringTimeoutMs: number;
  private readonly now: () => number;
  private readonly t1: number;
  private readonly t2: number;
  /** Timer H, and how long an answered call waits for its BYE. */
  private readonly timerH: number;
  /** Timer I: how long a non-2xx final's ACK retransmissions are absorbed. */
  private readonly timerI: number;
  /** A silent phone keeps absorbing INVITE retransmissions until the caller's Timer B (64*T1) is long over. */
  private readonly silentMemoryMs: number;
  /** Voice calls holding a recording, oldest first. */
  private readonly recorded: HandsetCall[] = [];
  private readonly droppingPrefixes: readonly string[];
  private readonly latePrefixes: readonly string[];

  /** Binds the UAS socket. */
  static async create(options: VirtualHandsetsOptions = {}): Promise<VirtualHandsets> {
    const socket = await openUdpSocket({
      address: options.address ?? "127.0.0.2",
      port: options.port ?? 5060,
      receiveBufferBytes: options.receiveBufferBytes,
      sendBufferBytes: options.receiveBufferBytes,
    });
    return new VirtualHandsets(socket, options);
  }

  private constructor(
    private readonly socket: Socket,
    private readonly options: VirtualHandsetsOptions,
  ) {
    const { address, port } = socket.address();
    this.local = { address, port };
    this.maxCallsPerPhone = options.maxCallsPerPhone ?? 20;
    this.maxPhones = options.maxPhones ?? 100_000;
    this.ringTimeoutMs = options.ringTimeoutMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.t1 = options.t1Ms ?? 500;
    this.t2 = 8 * this.t1;
    this.timerH = 64 * this.t1;
    this.timerI = 10 * this.t1;
    this.silentMemoryMs = 80 * this.t1;
    this.droppingPrefixes = options.droppingPrefixes ?? SANDBOX_RANGES.dropping;
    this.latePrefixes = options.latePrefixes ?? SANDBOX_RANGES.late;
    socket.on("message", (data, remote) => this.onDatagram(data, remote));
    socket.on("error", () => {}); // a failed send to a vanished caller is that caller's problem
  }

  /** Calls received by this phone, newest first (the same objects, updated as the call progresses). */
  calls(phone: string): HandsetCall[] {
    return this.phones.get(normaliseNumber(phone))?.slice() ?? [];
  }

  /** Stops all timers and closes the socket; ringing calls stay `ringing`. */
  async close(): Promise<void> {
    this.wheel.stop();
    this.inbound.clear();
    await closeUdpSocket(this.socket);
  }

  private onDatagram(data: Buffer, remote: RemoteInfo): void {
    const msg = parseMessage(data.toString("utf8"));
    if (msg?.status !== 0 || msg.callId === null || msg.via.length === 0) return;
    switch (msg.method) {
      case "INVITE":
        this.onInvite(msg, remote);
        break;
      case "CANCEL":
        this.onCancel(msg, remote);
        break;
      case "ACK":
        this.onAck(msg);
        break;
      case "BYE":
        this.onBye(msg, remote);
        break;
      case "OPTIONS":
        this.reply(remote, formatResponse(msg, 200, "OK"));
        break;
      default:
        this.reply(remote, formatResponse(msg, 501, "Not Implemented"));
    }
  }

  private onInvite(msg: SipMessage, remote: RemoteInfo): void {
    const callId = msg.callId!;
    const branch = branchOf(msg);
    const existing = this.inbound.get(callId);
    if (existing) {
      // A retransmission gets the last response again; a re-INVITE is not something a handset here supports.
      if (existing.branch === branch && existing.lastResponse) this.send(existing.remote, existing.lastResponse);
      return;
    }
    const record: HandsetCall = {
      callId,
      to: normaliseNumber(uriUser(msg.uri)),
      from: normaliseNumber(uriUser(addressUri(msg.from ?? ""))),
      receivedAt: this.now(),
      result: "ringing",
    };
    const call = new InboundCall(record, branch, remote, msg, this.t1);
    this.inbound.set(callId, call);
    const behaviour = behaviourFor(record.to);
    call.shown = behaviour === "ring" && !parseSdp(msg.body) ? this.shownAs(record.to) : "now";
    if (call.shown === "now") this.remember(record);

    switch (behaviour) {
      case "silent":
        call.invite = null;
        call.expiry = this.wheel.schedule(this.silentMemoryMs, () => this.forget(call));
        this.ended(call, "no_answer");
        break;
      case "busy":
        this.respondFinal(call, 486, "Busy Here", "busy");
        break;
      case "not_found":
        this.respondFinal(call, 404, "Not Found", "not_found");
        break;
      case "answer":
        this.respondProvisional(call);
        invokeCallback(this.options.onIncomingCall, record, "onIncomingCall");
        if (parseSdp(msg.body)) void this.answerVoice(call);
        else this.respondFinal(call, 200, "OK", "answered");
        break;
      case "ring":
        if (parseSdp(msg.body)) {
          this.respondProvisional(call);
          invokeCallback(this.options.onIncomingCall, record, "onIncomingCall");
          call.ringTimeout = this.wheel.schedule(this.options.voiceAnswerMs ?? 300, () => void this.answerVoice(call));
          break;
        }
        this.respondProvisional(call);
        call.ringTimeout = this.wheel.schedule(this.ringTimeoutMs, () =>
          this.respondFinal(call, 480, "Temporarily Unavailable", "missed"),
        );
        if (call.shown === "now") invokeCallback(this.options.onIncomingCall, record, "onIncomingCall");
        // Not a timer of the call: the entry appears after its transaction is long forgotten.
        else if (call.shown === "late")
          this.wheel.schedule(this.options.lateDeliveryMs ?? 15_000, () => this.show(record));
    }
  }

  private shownAs(to: string): Shown {
    if (this.droppingPrefixes.some((prefix) => to.startsWith(prefix))) return "never";
    if (this.latePrefixes.some((prefix) => to.startsWith(prefix))) return "late";
    return "now";
  }

  /** A late call reaches the phone's call log now. */
  private show(record: HandsetCall): void {
    record.receivedAt = this.now();
    this.remember(record);
    invokeCallback(this.options.onIncomingCall, record, "onIncomingCall");
  }

  private onCancel(msg: SipMessage, remote: RemoteInfo): void {
    const call = this.inbound.get(msg.callId!);
    // §9.2: a CANCEL matches the INVITE server transaction by branch.
    if (!call || call.branch !== branchOf(msg)) {
      this.reply(remote, formatResponse(msg, 481, "Call/Transaction Does Not Exist", { toTag: newTag() }));
      return;
    }
    this.reply(remote, formatResponse(msg, 200, "OK", { toTag: call.toTag }));
    if (!call.final) this.respondFinal(call, 487, "Request Terminated", "missed");
  }

  private onAck(msg: SipMessage): void {
    const call = this.inbound.get(msg.callId!);
    if (!call?.final || call.acknowledged) return;
    call.acknowledged = true;
    call.retransmit?.cancel();
    call.timerH?.cancel();
    // Timer I for a non-2xx final (absorb ACK retransmissions); an answered call waits for its BYE.
    call.expiry?.cancel();
    const keep = call.recorder
      ? (this.options.maxVoiceCallMs ?? 600_000)
      : call.record.result === "answered"
        ? this.timerH
        : this.timerI;
    call.expiry = this.wheel.schedule(keep, () => this.forget(call));
  }

  private onBye(msg: SipMessage, remote: RemoteInfo): void {
    const call = this.inbound.get(msg.callId!);
    if (call?.record.result !== "answered") {
      this.reply(remote, formatResponse(msg, 481, "Call/Transaction Does Not Exist"));
      return;
    }
    this.reply(remote, formatResponse(msg, 200, "OK"));
    void this.stopRecording(call);
    // A BYE implies the caller got our 200 even if its ACK was lost; keep answering BYE retransmissions a while.
    call.retransmit?.cancel();
    call.timerH?.cancel();
    call.expiry?.cancel();
    call.expiry = this.wheel.schedule(this.timerH, () => this.forget(call));
  }

  private respondProvisional(call: InboundCall): void {
    const invite = call.invite!;
    this.send(call.remote, Buffer.from(formatResponse(invite, 100, "Trying")));
    call.lastResponse = Buffer.from(formatResponse(invite, 180, "Ringing", { toTag: call.toTag }));
    this.send(call.remote, call.lastResponse);
  }

  /** A voice call: answer its offer with a recorder of our own, or 488 when it offers no G.711. */
  private async answerVoice(call: InboundCall): Promise<void> {
    const offer = call.invite ? parseSdp(call.invite.body) : null;
    if (!offer) return;
    const recorder = await VoiceRecorder.answer(offer, this.local.address).catch(() => null);
    if (!recorder) {
      this.respondFinal(call, 488, "Not Acceptable Here", "rejected");
      return;
    }
    // A CANCEL may have ended the call while the socket was being bound.
    if (!call.invite) {
      void recorder.stop(0);
      return;
    }
    call.recorder = recorder;
    call.record.voice = { answeredAt: this.now(), endedAt: null, codec: recorder.codec, recording: null };
    this.respondFinal(call, 200, "OK", "answered", recorder.answer);
  }

  /** The voice call ended (BYE, or never one in maxVoiceCallMs): its recording is kept. */
  private async stopRecording(call: InboundCall): Promise<void> {
    const recorder = call.recorder;
    const voice = call.record.voice;
    if (!recorder || !voice) return;
    call.recorder = null;
    voice.endedAt = this.now();
    const recording = await recorder.stop(voice.endedAt - voice.answeredAt);
    voice.recording = recording.wav;
    this.recorded.push(call.record);
    if (this.recorded.length > (this.options.maxRecordings ?? 50)) {
      const dropped = this.recorded.shift()?.voice;
      if (dropped) dropped.recording = null;
    }
  }

  private respondFinal(
    call: InboundCall,
    status: number,
    phrase: string,
    result: HandsetCallResult,
    sdp?: string,
  ): void {
    const invite = call.invite;
    if (!invite) return;
    call.invite = null;
    call.ringTimeout?.cancel();
    const headers =
      status === 200 ? [`Contact: <sip:${call.record.to}@${hostPort(this.local.address, this.local.port)}>`] : [];
    if (sdp) headers.push("Content-Type: application/sdp");
    call.final = Buffer.from(formatResponse(invite, status, phrase, { toTag: call.toTag, headers, body: sdp ?? "" }));
    call.lastResponse = call.final;
    this.send(call.remote, call.final);
    // Timer G for a non-2xx final, §13.3.1.4 for a 2xx: the same schedule, until the ACK or Timer H.
    const retransmit = (): void => {
      this.send(call.remote, call.final!);
      call.interval = Math.min(call.interval * 2, this.t2);
      call.retransmit = this.wheel.schedule(call.interval, retransmit);
    };
    call.retransmit = this.wheel.schedule(call.interval, retransmit);
    call.timerH = this.wheel.schedule(this.timerH, () => this.forget(call));
    this.ended(call, result);
  }

  private ended(call: InboundCall, result: HandsetCallResult): void {
    call.record.result = result;
    // A dropped call never reached the phone; a late one tells of itself when it shows.
    if (call.shown !== "now") return;
    invokeCallback(this.options.onCallEnded, call.record, "onCallEnded");
  }

  private forget(call: InboundCall): void {
    call.stopTimers();
    void this.stopRecording(call);
    if (this.inbound.get(call.record.callId) === call) this.inbound.delete(call.record.callId);
  }

  private remember(record: HandsetCall): void {
    let list = this.phones.get(record.to);
    if (list)
      this.phones.delete(record.to); // re-inserted below as the most recently called
    else list = [];
    this.phones.set(record.to, list);
    list.unshift(record);
    if (list.length > this.maxCallsPerPhone) list.pop();
    if (this.phones.size > this.maxPhones) {
      const oldest = this.phones.keys().next().value;
      if (oldest !== undefined) this.phones.delete(oldest);
    }
  }

  private reply(remote: RemoteInfo, text: string): void {
    this.send(remote, Buffer.from(text));
  }

  private send(remote: RemoteInfo, data: Buffer): void {
    this.socket.send(data, remote.port, remote.address);
  }
}

function branchOf(msg: SipMessage): string {
  return headerParam(msg.via[0]!, "branch") ?? "";
}
