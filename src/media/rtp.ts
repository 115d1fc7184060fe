/**
 * RTP packets (RFC 3550 §5.1): the fixed 12-byte header, no CSRCs or extensions on what we send; what we receive
 * may carry both (and padding), which `parseRtp` skips to find the payload.
 */

export const RTP_HEADER_BYTES = 12;

export interface RtpHeader {
  payloadType: number;
  marker: boolean;
  sequence: number;
  timestamp: number;
  ssrc: number;
}

/** Writes the fixed header into the first 12 bytes of `packet` (version 2, no padding, extension or CSRC). */
export function writeRtpHeader(packet: Uint8Array, header: RtpHeader): void {
  packet[0] = 0x80;
  packet[1] = (header.marker ? 0x80 : 0) | (header.payloadType & 0x7f);
  packet[2] = (header.sequence >>> 8) & 0xff;
  packet[3] = header.sequence & 0xff;
  writeUint32(packet, 4, header.timestamp);
  writeUint32(packet, 8, header.ssrc);
}

export interface RtpPacket extends RtpHeader {
  payload: Uint8Array;
}

/** Reads an RTP packet; null when it is not version 2 or its lengths do not add up. */
export function parseRtp(data: Uint8Array): RtpPacket | null {
  if (data.length < RTP_HEADER_BYTES || data[0] === undefined || data[0] >> 6 !== 2) return null;
  const first = data[0];
  const second = data[1] as number;
  let offset = RTP_HEADER_BYTES + (first & 0x0f) * 4;
  if (first & 0x10) {
    if (data.length < offset + 4) return null;
    offset += 4 + (((data[offset + 2] as number) << 8) | (data[offset + 3] as number)) * 4;
  }
  let end = data.length;
  if (first & 0x20) end -= data[data.length - 1] as number;
  if (end < offset) return null;
  return {
    payloadType: second & 0x7f,
    marker: (second & 0x80) !== 0,
    sequence: ((data[2] as number) << 8) | (data[3] as number),
    timestamp: readUint32(data, 4),
    ssrc: readUint32(data, 8),
    payload: data.subarray(offset, end),
  };
}

function writeUint32(out: Uint8Array, at: number, value: number): void {
  out[at] = (value >>> 24) & 0xff;
  out[at + 1] = (value >>> 16) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
}

function readUint32(data: Uint8Array, at: number): number {
  return (
    ((((data[at] as number) << 24) | ((data[at + 1] as number) << 16) | ((data[at + 2] as number) << 8)) +
      (data[at + 3] as number)) >>>
    0
  );
}

/**
 * RFC 4733 §2.3: a telephone-event payload. `event` 0-9 are the digits, 10 `*`, 11 `#`; the end bit marks the
 * last packets of an event (sent three times), which share the event's RTP timestamp.
 */
export interface TelephoneEvent {
  event: number;
  end: boolean;
  volume: number;
  duration: number;
}

export function parseTelephoneEvent(payload: Uint8Array): TelephoneEvent | null {
  if (payload.length < 4) return null;
  return {
    event: payload[0] as number,
    end: ((payload[1] as number) & 0x80) !== 0,
    volume: (payload[1] as number) & 0x3f,
    duration: ((payload[2] as number) << 8) | (payload[3] as number),
  };
}

export function telephoneEventPayload(event: TelephoneEvent): Uint8Array {
  return Uint8Array.of(
    event.event,
    (event.end ? 0x80 : 0) | (event.volume & 0x3f),
    (event.duration >> 8) & 0xff,
    event.duration & 0xff,
  );
}

/** The DTMF key of an event number: "0"-"9", "*", "#", "A"-"D"; null for other events. */
export function dtmfKey(event: number): string | null {
  return event >= 0 && event <= 15 ? ("0123456789*#ABCD"[event] as string) : null;
}
