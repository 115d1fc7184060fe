/**
 * The far end's media for the voice tests: a UDP socket that keeps every RTP packet it receives (parsed here, by
 * the test's own reading of RFC 3550, not the server's parser) and sends RFC 4733 DTMF back to where the audio
 * comes from, as a phone behind symmetric RTP does.
 */
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";

export interface CapturedPacket {
  payloadType: number;
  marker: boolean;
  sequence: number;
  timestamp: number;
  ssrc: number;
  payload: Buffer;
  /** performance.now() at arrival */
  arrivedAt: number;
}

export class RtpPeer {
  readonly packets: CapturedPacket[] = [];
  private source: RemoteInfo | null = null;
  private dtmfSequence = 1000;

  private constructor(
    private readonly socket: Socket,
    readonly address: string,
    readonly port: number,
  ) {
    socket.on("message", (data, remote) => {
      if (data.length < 12 || data[0] === undefined || data[0] >> 6 !== 2) return;
      this.source ??= remote;
      this.packets.push({
        payloadType: (data[1] as number) & 0x7f,
        marker: ((data[1] as number) & 0x80) !== 0,
        sequence: data.readUInt16BE(2),
        timestamp: data.readUInt32BE(4),
        ssrc: data.readUInt32BE(8),
        payload: Buffer.from(data.subarray(12 + ((data[0] as number) & 0x0f) * 4)),
        arrivedAt: performance.now(),
      });
    });
  }

  static async open(address: string): Promise<RtpPeer> {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(0, address, () => resolve());
    });
    return new RtpPeer(socket, address, socket.address().port);
  }

  /** Audio payload bytes of `payloadType`, in sequence order. */
  audio(payloadType: number): Buffer {
    return Buffer.concat(this.packets.filter((p) => p.payloadType === payloadType).map((p) => p.payload));
  }

  /**
   * Sends one key press (RFC 4733 §2.5): packets every 20 ms with growing duration, then three end packets, all
   * with the event's timestamp; the first has the marker bit.
   */
  async pressKey(event: number, payloadType = 101): Promise<void> {
    const to = this.source;
    if (!to) throw new Error("no RTP has arrived yet: nowhere to send DTMF");
    const timestamp = 0x10000 + this.dtmfSequence * 160;
    const ssrc = 0x5eed1234;
    const send = (duration: number, end: boolean, marker: boolean) => {
      const packet = Buffer.alloc(16);
      packet[0] = 0x80;
      packet[1] = (marker ? 0x80 : 0) | payloadType;
      packet.writeUInt16BE(this.dtmfSequence++ & 0xffff, 2);
      packet.writeUInt32BE(timestamp, 4);
      packet.writeUInt32BE(ssrc, 8);
      packet[12] = event;
      packet[13] = (end ? 0x80 : 0) | 10;
      packet.writeUInt16BE(duration, 14);
      this.socket.send(packet, to.port, to.address);
    };
    for (let i = 1; i <= 5; i++) {
      send(i * 160, false, i === 1);
      await new Promise((r) => setTimeout(r, 20));
    }
    for (let i = 0; i < 3; i++) send(6 * 160, true, false);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/**
 * The stream as RFC 3550 and 3551 want it: one SSRC, sequence numbers one apart, timestamps 160 apart (20 ms at
 * 8 kHz), 160-byte payloads, the marker bit on the first packet only. Returns the problems found ([] when none).
 */
export function streamProblems(packets: readonly CapturedPacket[], payloadType: number): string[] {
  const audio = packets.filter((p) => p.payloadType === payloadType);
  const problems: string[] = [];
  if (audio.length === 0) return ["no audio packets"];
  if (!audio[0]?.marker) problems.push("first packet has no marker bit");
  for (let i = 1; i < audio.length; i++) {
    const a = audio[i - 1] as CapturedPacket;
    const b = audio[i] as CapturedPacket;
    if (b.ssrc !== a.ssrc) problems.push(`packet ${i}: SSRC changed`);
    if (b.sequence !== ((a.sequence + 1) & 0xffff))
      problems.push(`packet ${i}: sequence ${a.sequence} -> ${b.sequence}`);
    if (b.timestamp !== (a.timestamp + 160) >>> 0)
      problems.push(`packet ${i}: timestamp ${a.timestamp} -> ${b.timestamp}`);
    if (b.payload.length !== 160) problems.push(`packet ${i}: ${b.payload.length} payload bytes`);
    if (b.marker) problems.push(`packet ${i}: marker bit`);
    if (problems.length > 10) break;
  }
  return problems;
}

/** True when the last `ms` of audio received are silent in G.711 (every byte within a few steps of silence). */
export function endsInSilence(packets: readonly CapturedPacket[], payloadType: number, ms: number): boolean {
  const audio = packets.filter((p) => p.payloadType === payloadType);
  const count = Math.ceil(ms / 20);
  if (audio.length < count) return false;
  // Within a few quantisation steps of zero: µ-law 0x7c-0x7f and 0xfc-0xff; A-law (even bits inverted) 0x00-0x03.
  const silentByte = payloadType === 0 ? (b: number) => (b & 0x7f) >= 0x7c : (b: number) => ((b ^ 0x55) & 0x7f) < 0x04;
  return audio.slice(-count).every((p) => p.payload.every(silentByte));
}
