/**
 * Reads a call's RTP socket for RFC 4733 DTMF and counts what arrives. Most of what arrives is the far end's
 * audio (or an echo of ours): only telephone-event packets are parsed, and a key press (several packets and three
 * end packets with the same timestamp) is reported once.
 */
import type { Socket } from "node:dgram";
import { dtmfKey, parseRtp, parseTelephoneEvent } from "./rtp.js";

export class DtmfReader {
  /** RTP packets that reached us from the far end (its audio, echo or DTMF). */
  received = 0;
  private lastEventTimestamp = -1;

  constructor(
    socket: Socket,
    private readonly eventPayloadType: number | null,
    private readonly onKey: (key: string) => void,
  ) {
    socket.on("message", (data) => this.onPacket(data));
  }

  private onPacket(data: Buffer): void {
    this.received++;
    if (data.length < 16 || ((data[1] as number) & 0x7f) !== this.eventPayloadType) return;
    const packet = parseRtp(data);
    if (!packet) return;
    const event = parseTelephoneEvent(packet.payload);
    if (!event?.end || packet.timestamp === this.lastEventTimestamp) return;
    this.lastEventTimestamp = packet.timestamp;
    const key = dtmfKey(event.event);
    if (key !== null) this.onKey(key);
  }
}
