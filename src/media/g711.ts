/**
 * G.711 (ITU-T G.711) µ-law (PCMU, RTP payload type 0) and A-law (PCMA, type 8): the two codecs every telephone
 * network carries. Both directions are table lookups built once: 65,536 bytes per law for encoding, 256 samples for
 * decoding.
 *
 * @example
 * const ulaw = encodeG711("PCMU", pcm16); // Uint8Array, one byte per sample
 * decodeG711("PCMU", ulaw); // Int16Array, close to pcm16
 */

export type G711Codec = "PCMU" | "PCMA";

const BIAS = 0x84;
const CLIP = 32635;

function linearToUlaw(sample: number): number {
  const sign = sample < 0 ? 0x80 : 0;
  let magnitude = Math.min(Math.abs(sample), CLIP) + BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (magnitude & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  magnitude = ~(sign | (exponent << 4) | mantissa);
  return magnitude & 0xff;
}

function ulawToLinear(byte: number): number {
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 0x07;
  const magnitude = ((((u & 0x0f) << 3) + BIAS) << exponent) - BIAS;
  return u & 0x80 ? -magnitude : magnitude;
}

function linearToAlaw(sample: number): number {
  const sign = sample >= 0 ? 0xd5 : 0x55;
  const magnitude = Math.min(sample >= 0 ? sample : -sample - 1, 32767) >> 3;
  let exponent = 0;
  if (magnitude >= 0x20) {
    exponent = 1;
    while (exponent < 7 && magnitude >= 0x20 << exponent) exponent++;
  }
  const mantissa = exponent === 0 ? magnitude >> 1 : (magnitude >> exponent) & 0x0f;
  return ((exponent << 4) | mantissa) ^ sign;
}

function alawToLinear(byte: number): number {
  const a = byte ^ 0x55;
  const exponent = (a >> 4) & 0x07;
  const mantissa = a & 0x0f;
  const magnitude = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  return a & 0x80 ? magnitude : -magnitude;
}

function encodeTable(law: (sample: number) => number): Uint8Array {
  const table = new Uint8Array(65536);
  for (let i = 0; i < 65536; i++) table[i] = law(i - 32768);
  return table;
}

function decodeTable(law: (byte: number) => number): Int16Array {
  const table = new Int16Array(256);
  for (let i = 0; i < 256; i++) table[i] = law(i);
  return table;
}

const ENCODE: Record<G711Codec, Uint8Array> = { PCMU: encodeTable(linearToUlaw), PCMA: encodeTable(linearToAlaw) };
const DECODE: Record<G711Codec, Int16Array> = { PCMU: decodeTable(ulawToLinear), PCMA: decodeTable(alawToLinear) };

/** The byte of silence (linear 0) in each law. */
export const G711_SILENCE: Readonly<Record<G711Codec, number>> = {
  PCMU: linearToUlaw(0),
  PCMA: linearToAlaw(0),
};

/** Encodes `samples[start, start + out.length)` into `out` (silence past the end of `samples`). */
export function encodeG711Into(
  codec: G711Codec,
  samples: Int16Array,
  start: number,
  out: Uint8Array,
  offset = 0,
  length = out.length - offset,
): void {
  const table = ENCODE[codec];
  const silence = G711_SILENCE[codec];
  for (let i = 0; i < length; i++) {
    const index = start + i;
    out[offset + i] = index < samples.length ? (table[(samples[index] as number) + 32768] as number) : silence;
  }
}

export function encodeG711(codec: G711Codec, samples: Int16Array): Uint8Array {
  const out = new Uint8Array(samples.length);
  encodeG711Into(codec, samples, 0, out);
  return out;
}

const encoded: Record<G711Codec, WeakMap<Int16Array, Uint8Array>> = { PCMU: new WeakMap(), PCMA: new WeakMap() };

/**
 * `samples` encoded, once per array and codec: a prompt's clips are shared by every call that says them, so a call
 * copies bytes into its packets instead of encoding each sample again.
 */
export function encodeG711Once(codec: G711Codec, samples: Int16Array): Uint8Array {
  const cache = encoded[codec];
  let bytes = cache.get(samples);
  if (!bytes) {
    bytes = encodeG711(codec, samples);
    cache.set(samples, bytes);
  }
  return bytes;
}

export function decodeG711(codec: G711Codec, bytes: Uint8Array): Int16Array {
  const table = DECODE[codec];
  const out = new Int16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = table[bytes[i] as number] as number;
  return out;
}
