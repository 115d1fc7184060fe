/**
 * One call's media: plays a VoicePrompt over RTP to the address the answer gave, 20 ms packets on the thread's
 * MediaClock, and listens on the same socket for RFC 4733 DTMF. "1" replays the code (up to `maxReplays` times);
 * the session ends by itself once the prompt, the menu and the listening time have passed.
 *
 * Every packet carries the next sequence number and a timestamp 160 samples on; the first packet of the stream
 * has the marker bit (RFC 3551 §4.1: the start of a talkspurt). Silence between phrases is sent as silence rather
 * than suppressed, since a carrier that sees no RTP for a while may tear the call down.
 */
import { randomBytes } from "node:crypto";
import type { Socket } from "node:dgram";
import { DtmfReader } from "./dtmf-reader.js";
import { encodeG711Once, G711_SILENCE } from "./g711.js";
import { type ClockedStream, type MediaClock, newSendTiming, recordLateness, type SendTiming } from "./media-clock.js";
import { PACKET_MS, PACKET_SAMPLES, partSamples, SAMPLE_RATE, type VoicePrompt } from "./prompt.js";
import { RTP_HEADER_BYTES, writeRtpHeader } from "./rtp.js";
import type { NegotiatedAudio } from "./sdp.js";

export type MediaEnd = "completed" | "stopped";

export interface MediaReport {
  /** The code was said in full at least once. */
  codeHeard: boolean;
  /** Milliseconds of audio sent. */
  playedMs: number;
  /** DTMF keys received, in order. */
  dtmf: string;
  replays: number;
  codec: string;
  /** RTP packets that reached us from the far end (its audio, echo or DTMF). */
  packetsReceived: number;
  timing: SendTiming;
}

type Phase = "speech" | "menu" | "listen";

/**
 * `read: false` leaves the socket's packets to a DtmfReader elsewhere, which hands the keys to `key()`.
 * `connect: false` sends to the remote's address per packet, for a sending socket that shares its port with a
 * connected reading one (the kernel then gives the far end's packets to the connected socket).
 */
export interface RtpSessionOptions {
  read?: boolean;
  connect?: boolean;
}

export class RtpSession implements ClockedStream {
  private readonly ssrc: number;
  private sequence: number;
  private timestamp: number;
  private marker = true;
  /** performance.now ms at which packet `sent` is due. */
  private startedAt = 0;
  private sent = 0;
  private phase: Phase = "speech";
  /** The phase's parts as G.711 bytes, the part playing and the byte within it. */
  private parts: Uint8Array[];
  private part = 0;
  private offset = 0;
  private readonly speech: Uint8Array[];
  private readonly menu: Uint8Array[];
  private readonly silence: number;
  private listenPackets: number;
  private codeHeard = false;
  private replays = 0;
  private dtmf = "";
  private readonly reader: DtmfReader | null;
  private readonly timing = newSendTiming();
  private ended = false;
  private resolve!: (report: MediaReport & { end: MediaEnd }) => void;
  /** Resolves once, when the prompt has run its course or `stop()` was called. */
  readonly done: Promise<MediaReport & { end: MediaEnd }>;

  constructor(
    private readonly socket: Socket,
    private readonly remote: NegotiatedAudio,
    private readonly prompt: VoicePrompt,
    private readonly clock: MediaClock,
    private readonly options: RtpSessionOptions = {},
  ) {
    const random = randomBytes(10);
    this.ssrc = random.readUInt32BE(0);
    // RFC 3550 §5.1: random initial sequence number and timestamp.
    this.sequence = random.readUInt16BE(4);
    this.timestamp = random.readUInt32BE(6);
    this.listenPackets = Math.ceil(prompt.listenMs / PACKET_MS);
    this.speech = prompt.speech.map((p) => encodeG711Once(remote.codec, partSamples(prompt, p)));
    this.menu = prompt.menu.map((p) => encodeG711Once(remote.codec, partSamples(prompt, p)));
    this.silence = G711_SILENCE[remote.codec];
    this.parts = this.speech;
    this.done = new Promise((resolve) => {
      this.resolve = resolve;
    });
    this.reader = options.read === false ? null : new DtmfReader(socket, remote.eventPayloadType, (k) => this.key(k));
    socket.on("error", ignore);
  }

  /**
   * Connects the socket to the far end's address and starts sending on the clock (the first packet within 20 ms). A
   * connected socket sends without a per-packet address lookup (a third of the cost of a send), and takes packets
   * only from that address: symmetric RTP, which is what SBCs and phones on a trunk do.
   */
  start(): void {
    if (this.options.connect === false) {
      this.startedAt = this.clock.add(this);
      return;
    }
    this.socket.connect(this.remote.port, this.remote.address, () => {
      if (this.ended) return;
      this.startedAt = this.clock.add(this);
    });
  }

  /** Stops sending (the far end hung up, or the call hit its length limit). */
  stop(): void {
    this.finish("stopped");
  }

  pump(now: number): boolean {
    if (this.ended) return false;
    while (this.startedAt + this.sent * PACKET_MS <= now) {
      const due = this.startedAt + this.sent * PACKET_MS;
      if (!this.sendNext()) {
        this.finish("completed");
        return false;
      }
      recordLateness(this.timing, now - due);
      this.sent++;
    }
    return true;
  }

  /** The packet at the current position, then the position moves on; false when the program is over. */
  private sendNext(): boolean {
    while (this.phase !== "listen" && this.part >= this.parts.length) this.nextPhase();
    if (this.phase === "listen" && this.listenPackets-- <= 0) return false;
    // From Node's shared pool: a packet is a slice of a larger buffer, not an allocation of its own.
    const packet = Buffer.allocUnsafe(RTP_HEADER_BYTES + PACKET_SAMPLES);
    writeRtpHeader(packet, {
      payloadType: this.remote.payloadType,
      marker: this.marker,
      sequence: this.sequence,
      timestamp: this.timestamp,
      ssrc: this.ssrc,
    });
    // 160 samples from the parts in order (a packet may span two), silence past the end of the phase.
    let filled = 0;
    while (filled < PACKET_SAMPLES) {
      const audio = this.parts[this.part];
      if (this.phase === "listen" || !audio) {
        packet.fill(this.silence, RTP_HEADER_BYTES + filled);
        break;
      }
      const n = Math.min(PACKET_SAMPLES - filled, audio.length - this.offset);
      packet.set(audio.subarray(this.offset, this.offset + n), RTP_HEADER_BYTES + filled);
      filled += n;
      this.offset += n;
      if (this.offset >= audio.length) {
        this.part++;
        this.offset = 0;
        if (this.phase === "speech" && this.part >= this.prompt.codeEndsAfter) this.codeHeard = true;
      }
    }
    this.marker = false;
    this.sequence = (this.sequence + 1) & 0xffff;
    this.timestamp = (this.timestamp + PACKET_SAMPLES) >>> 0;
    // Without a callback Node sends at once (uv_udp_try_send) instead of queueing a request per packet; a failed
    // send is an "error" event, and a lost packet is what RTP expects of the network anyway.
    if (this.options.connect === false) this.socket.send(packet, this.remote.port, this.remote.address);
    else this.socket.send(packet);
    return true;
  }

  private nextPhase(): void {
    this.part = 0;
    this.offset = 0;
    if (this.phase === "speech") {
      this.phase = "menu";
      this.parts = this.menu;
    } else this.phase = "listen";
  }

  /** A DTMF key from the far end (each press once): "1" replays the code, up to `maxReplays` times. */
  key(key: string): void {
    this.dtmf += key;
    if (key === "1" && !this.ended && this.replays < this.prompt.maxReplays) {
      this.replays++;
      this.phase = "speech";
      this.parts = this.speech;
      this.part = 0;
      this.offset = 0;
      this.listenPackets = Math.ceil(this.prompt.listenMs / PACKET_MS);
    }
  }

  private finish(end: MediaEnd): void {
    if (this.ended) return;
    this.ended = true;
    this.clock.remove(this);
    this.resolve({
      end,
      codeHeard: this.codeHeard,
      playedMs: Math.round((this.sent * PACKET_SAMPLES * 1000) / SAMPLE_RATE),
      dtmf: this.dtmf,
      replays: this.replays,
      codec: this.remote.codec,
      packetsReceived: this.reader?.received ?? 0,
      timing: this.timing,
    });
  }
}

function ignore(): void {}
