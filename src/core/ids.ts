/**
 * Identifiers with a type prefix (`ver_`, `att_`, `evt_`, `app_`, `key_`), ULID-like: 48 bits of milliseconds then
 * 80 random bits, Crockford base32. They sort by creation time, which keeps index inserts cheap and pages stable.
 */
import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

export type IdPrefix = "ver" | "att" | "evt" | "app" | "key" | "pool";

export function newId(prefix: IdPrefix, now: number = Date.now()): string {
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
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
  return `${prefix}_${time}${random}`;
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
