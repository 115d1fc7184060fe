/**
 * Random identifiers for SIP: branch ids, tags and Call-IDs.
 *
 * They must be unguessable (a guessed branch lets an off-path attacker inject responses into our transactions), so
 * they come from the CSPRNG. Calling `randomBytes` for every id costs a syscall-sized overhead at thousands of calls
 * per second, so we fill a pool once and hand out each byte exactly once.
 */
import { randomFillSync } from "node:crypto";

const pool = Buffer.allocUnsafe(4096);
let offset = pool.length;

/** `bytes` random bytes from the CSPRNG pool as hex (digest cnonces, ids). */
export function randomHex(bytes: number): string {
  if (offset + bytes > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString("hex", offset, offset + bytes);
  offset += bytes;
  return hex;
}

/** RFC 3261 magic cookie every compliant branch id starts with. */
export const BRANCH_COOKIE = "z9hG4bK";

/**
 * A new Via branch: the magic cookie plus 96 random bits.
 * @example newBranch() // "z9hG4bK3f0c9a1b2c3d4e5f60718293"
 */
export function newBranch(): string {
  return BRANCH_COOKIE + randomHex(12);
}

/** A new From/To tag: 64 random bits. */
export function newTag(): string {
  return randomHex(8);
}

/** A new Call-ID: 128 random bits. */
export function newCallId(): string {
  return randomHex(16);
}
