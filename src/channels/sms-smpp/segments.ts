/**
 * Splits a text into the short_message payloads of one SMS or of a concatenated SMS (UDH information element 0x00,
 * 8-bit reference: 6 octets of header), choosing GSM-7 when every character has a septet and UCS-2 otherwise.
 * Limits per 3GPP TS 23.040: 160 septets or 140 octets in one SMS; 153 septets or 67 UCS-2 units per part. A part
 * never ends inside an escape sequence or a surrogate pair, so every part decodes on its own.
 */
import { encodeGsm7 } from "./gsm7.js";

export const DATA_CODING_GSM7 = 0x00;
export const DATA_CODING_UCS2 = 0x08;
/** esm_class bit: short_message starts with a User Data Header. */
export const ESM_CLASS_UDHI = 0x40;

export interface EncodedSms {
  dataCoding: number;
  /** One payload per SMS part, each with its UDH when there are several. */
  parts: Buffer[];
}

const MAX_PARTS = 255;

/** @throws RangeError when the text needs more than 255 parts. */
export function encodeSms(text: string, reference: number): EncodedSms {
  const septets = encodeGsm7(text);
  if (septets) {
    const units = splitUnits(septets, 160, 153, (units, end) => units[end - 1] === 0x1b);
    return {
      dataCoding: DATA_CODING_GSM7,
      parts: withHeaders(
        units.map((u) => Buffer.from(u)),
        reference,
      ),
    };
  }
  const codeUnits: number[] = [];
  for (let i = 0; i < text.length; i++) codeUnits.push(text.charCodeAt(i));
  const isHighSurrogate = (units: number[], end: number) => {
    const unit = units[end - 1] as number;
    return unit >= 0xd800 && unit <= 0xdbff;
  };
  const chunks = splitUnits(codeUnits, 70, 67, isHighSurrogate).map((chunk) => {
    const buffer = Buffer.alloc(chunk.length * 2);
    chunk.forEach((unit, i) => {
      buffer.writeUInt16BE(unit, i * 2);
    });
    return buffer;
  });
  return { dataCoding: DATA_CODING_UCS2, parts: withHeaders(chunks, reference) };
}

/** Splits into one chunk of `single` or chunks of `multi`, moving a chunk's end back one when it would split a pair. */
function splitUnits(
  units: number[],
  single: number,
  multi: number,
  splitsPair: (units: number[], end: number) => boolean,
): number[][] {
  if (units.length <= single) return [units];
  const chunks: number[][] = [];
  let start = 0;
  while (start < units.length) {
    let end = Math.min(start + multi, units.length);
    if (end < units.length && splitsPair(units, end)) end--;
    chunks.push(units.slice(start, end));
    start = end;
  }
  if (chunks.length > MAX_PARTS) throw new RangeError(`message needs ${chunks.length} parts; at most ${MAX_PARTS}`);
  return chunks;
}

function withHeaders(payloads: Buffer[], reference: number): Buffer[] {
  if (payloads.length === 1) return payloads;
  return payloads.map((payload, i) =>
    Buffer.concat([Buffer.from([0x05, 0x00, 0x03, reference & 0xff, payloads.length, i + 1]), payload]),
  );
}

export interface ConcatHeader {
  reference: number;
  total: number;
  /** 1-based */
  index: number;
}

/** The concatenation header (8- or 16-bit reference) in a UDH that starts with its length octet, if it has one. */
export function readConcatHeader(payload: Buffer): ConcatHeader | null {
  const headerLength = payload[0];
  if (headerLength === undefined || payload.length < headerLength + 1) return null;
  let i = 1;
  while (i + 1 < headerLength + 1) {
    const id = payload[i] as number;
    const length = payload[i + 1] as number;
    if (id === 0x00 && length === 3) {
      return { reference: payload[i + 2] as number, total: payload[i + 3] as number, index: payload[i + 4] as number };
    }
    if (id === 0x08 && length === 4) {
      return {
        reference: payload.readUInt16BE(i + 2),
        total: payload[i + 4] as number,
        index: payload[i + 5] as number,
      };
    }
    i += 2 + length;
  }
  return null;
}
