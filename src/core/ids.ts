/**
 * Identifiers with a type prefix (`ver_`, `att_`, `evt_`, `app_`, `key_`), ULID-like: 48 bits of milliseconds then
 * 80 random bits, Crockford base32. They sort by creation time, which keeps index inserts cheap and pages stable.
 */
import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

export type IdPrefix = "ver" | "att" | "evt" | "app" | "key" | "pool" | "frd" | "whe" | "mls" | "snk" | "rvn";

export function newId(prefix: IdPrefix, now: number = Date.now()): string {
  const bytes = randomChunk(10);
  let random = "";
  // 10 bytes = 80 bits = 16 base32 characters, taken 5 bits at a time.
  let acc = 0;
  let bits = 0;
  for (const byte of bytes) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      random += ALPHABET[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  return `${prefix}_${base32(now, 10)}${random}`;
}

/**
 * A generator of ids that sort strictly in the order they were made, even within one millisecond or when the clock
 * steps back: the time part never decreases, and within one millisecond the 80-bit tail is the previous one plus
 * one (the ULID "monotonic" rule). Events take their ids from one of these so that a verification's events sort by
 * id in the order they happened, which is what `Last-Event-ID` and `after=` rely on.
 *
 * @example
 * const nextEventId = monotonicIds("evt");
 * nextEventId() < nextEventId(); // always
 */
export function monotonicIds(prefix: IdPrefix, clock: () => number = Date.now): () => string {
  let lastTime = -1;
  // The 80-bit tail as two 40-bit halves in plain numbers (exact below 2^53): BigInt arithmetic per id cost more
  // than the rest of writing an event.
  let high = 0;
  let low = 0;
  return () => {
    const now = clock();
    if (now > lastTime) {
      lastTime = now;
      const bytes = randomChunk(10);
      // The top bit cleared, to leave room to count up.
      high = (bytes[0]! & 0x7f) * 2 ** 32 + bytes.readUInt32BE(1);
      low = bytes[5]! * 2 ** 32 + bytes.readUInt32BE(6);
    } else if (low < HALF_MAX) {
      low += 1;
    } else if (high < HALF_MAX) {
      high += 1;
      low = 0;
    } else {
      lastTime += 1;
      high = 0;
      low = 0;
    }
    return `${prefix}_${base32(lastTime, 10)}${base32(high, 8)}${base32(low, 8)}`;
  };
}

const HALF_MAX = 2 ** 40 - 1;

/** The lowest `digits` base32 digits of a non-negative integer below 2^53. */
function base32(value: number, digits: number): string {
  let out = "";
  let rest = value;
  for (let i = 0; i < digits; i++) {
    out = ALPHABET[rest % 32] + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

/** Random bytes are fetched from the CSPRNG in blocks: one call per id would cost more than the rest of newId. */
const BLOCK = 4096;
let block = randomBytes(BLOCK);
let offset = 0;

function randomChunk(length: number): Buffer {
  if (offset + length > BLOCK) {
    block = randomBytes(BLOCK);
    offset = 0;
  }
  const chunk = block.subarray(offset, offset + length);
  offset += length;
  return chunk;
}

/** A random bearer secret with a recognisable prefix, e.g. `fv_...` for API keys or `ct_...` for client tokens. */
export function newSecret(prefix: string, bytes = 32): string {
  return `${prefix}_${randomBytes(bytes).toString("base64url")}`;
}
