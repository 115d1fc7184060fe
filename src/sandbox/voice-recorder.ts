/**
 * The sandbox handset's side of a voice call: it answers the caller's SDP offer (the first G.711 codec offered,
 * and telephone-event when offered) with its own RTP socket, and records the audio that arrives, decoded to 16-bit
 * PCM, until the call ends; the recording is then kept as a WAV file in memory for /sandbox/phones.
 *
 * Packets are placed by their RTP timestamp, not by arrival, so a packet that arrives late or twice lands where
 * it belongs and a gap stays silent, as a phone's jitter buffer would play it.
 */
import type { Socket } from "node:dgram";
import { decodeG711, type G711Codec } from "../media/g711.js";
import { SAMPLE_RATE } from "../media/prompt.js";
import { parseRtp } from "../media/rtp.js";
import { describeAudio, type SdpAudio, type SdpFormat } from "../media/sdp.js";
import { pcmWav } from "../media/wav.js";
import { closeUdpSocket, openUdpSocket } from "../sip/udp-socket.js";

/** Recordings stop growing past this (10 minutes), whatever the caller keeps sending. */
const MAX_SAMPLES = 10 * 60 * SAMPLE_RATE;

export interface Recording {
  codec: G711Codec;
  durationMs: number;
  wav: Buffer;
}

export class VoiceRecorder {
  private samples = new Int16Array(SAMPLE_RATE * 30);
  private length = 0;
  private firstTimestamp: number | null = null;
  private stopped = false;

  private constructor(
    private readonly socket: Socket,
    readonly codec: G711Codec,
    private readonly payloadType: number,
    /** Our SDP answer. */
    readonly answer: string,
  ) {
    socket.on("message", (data) => this.onPacket(data));
  }

  /** Answers `offer` on a fresh RTP socket at `address`; null when the offer has no G.711 (488 then). */
  static async answer(offer: SdpAudio, address: string): Promise<VoiceRecorder | null> {
    let codec: { name: G711Codec; pt: number } | null = null;
    let event: SdpFormat | null = null;
    for (const pt of offer.payloadTypes) {
      const name = offer.rtpmap.get(pt)?.name ?? (pt === 0 ? "PCMU" : pt === 8 ? "PCMA" : "");
      if (!codec && (name === "PCMU" || name === "PCMA")) codec = { name, pt };
      if (!event && name === "TELEPHONE-EVENT") event = { pt, name: "telephone-event", fmtp: "0-15" };
    }
    if (!codec) return null;
    const socket = await openUdpSocket({ address, port: 0, receiveBufferBytes: 256 * 1024 });
    const formats: SdpFormat[] = [{ pt: codec.pt, name: codec.name }, ...(event ? [event] : [])];
    const answer = describeAudio({
      address,
      port: socket.address().port,
      sessionId: Date.now() % 1e9,
      formats,
      username: "handset",
    });
    return new VoiceRecorder(socket, codec.name, codec.pt, answer);
  }

  /** Stops recording and returns the call's audio as a WAV file. */
  async stop(durationMs: number): Promise<Recording> {
    this.stopped = true;
    await closeUdpSocket(this.socket);
    return { codec: this.codec, durationMs, wav: pcmWav(this.samples.subarray(0, this.length)) };
  }

  private onPacket(data: Buffer): void {
    if (this.stopped) return;
    const packet = parseRtp(data);
    if (!packet || packet.payloadType !== this.payloadType) return;
    this.firstTimestamp ??= packet.timestamp;
    const at = (packet.timestamp - this.firstTimestamp) >>> 0;
    const decoded = decodeG711(this.codec, packet.payload);
    const end = at + decoded.length;
    if (end > MAX_SAMPLES) return;
    if (end > this.samples.length) {
      const grown = new Int16Array(Math.min(MAX_SAMPLES, Math.max(end, this.samples.length * 2)));
      grown.set(this.samples.subarray(0, this.length));
      this.samples = grown;
    }
    this.samples.set(decoded, at);
    if (end > this.length) this.length = end;
  }
}
