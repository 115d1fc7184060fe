/**
 * Codes and caller IDs are never stored in the clear. A code is kept as an HMAC bound to its attempt, and checked by
 * comparing two fixed-length HMACs with `timingSafeEqual`, so neither the stored value nor the comparison time
 * reveals it. Caller IDs are keyed by an HMAC too: the lease table holds these keys, one live lease per CLI.
 */
import { createHmac, hash, timingSafeEqual } from "node:crypto";

export class CodeHasher {
  private readonly key: Buffer;

  /** @param secret server secret (FLASHVERIFY_SECRET or the generated one), at least 32 bytes of entropy */
  constructor(secret: string) {
    if (secret.length < 32) throw new Error("the code secret must be at least 32 characters");
    this.key = Buffer.from(secret, "utf8");
  }

  /** The stored form of an attempt's code. */
  codeMac(attemptId: string, code: string): string {
    return createHmac("sha256", this.key).update(`code\0${attemptId}\0${code}`).digest("base64url");
  }

  /** Constant-time: true when `code` is the code whose MAC is `storedMac`. */
  codeMatches(attemptId: string, code: string, storedMac: string): boolean {
    const candidate = createHmac("sha256", this.key).update(`code\0${attemptId}\0${code}`).digest();
    const stored = Buffer.from(storedMac, "base64url");
    return stored.length === candidate.length && timingSafeEqual(stored, candidate);
  }

  /**
   * The client token of a verification: derived rather than random, so an idempotent replay of the start request
   * can hand out the same token again without the token ever being stored (only its hash is).
   */
  clientToken(verificationId: string): string {
    return `ct_${createHmac("sha256", this.key).update(`client-token\0${verificationId}`).digest("base64url")}`;
  }

  /** A stable key for a caller ID: equal CLIs give equal keys, and the key does not reveal the CLI. */
  cliKey(cli: string): string {
    return createHmac("sha256", this.key).update(`cli\0${cli}`).digest("base64url");
  }
}

/** Hash of a high-entropy bearer secret (API key, client token). SHA-256 suffices: the secrets are random. */
export function hashToken(token: string): string {
  // The one-shot form: no Hash object per request (a quarter of createHash's cost for a short input).
  return hash("sha256", token, "base64url");
}

/** Constant-time comparison of two token hashes. */
export function tokenHashEquals(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
