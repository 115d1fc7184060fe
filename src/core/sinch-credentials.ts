/**
 * Sinch credential pairs: an application key (a UUID, public) and its application secret, belonging to one of our
 * applications, for the Sinch-compatible Verification API. Unlike our API keys the secret cannot be kept as a hash:
 * Sinch's signed scheme is an HMAC keyed with the secret, so the server needs the secret itself to check a request
 * and to sign callbacks. It is kept sealed (AES-256-GCM under a key derived from the server secret) and opened in
 * memory only; a database dump without the server secret does not reveal it.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { DEFAULT_APPLICATION_ID } from "./api-keys.js";
import { newId } from "./ids.js";
import type { Clock } from "./ports.js";

export interface SinchCredentialRecord {
  id: string;
  applicationId: string;
  applicationKey: string;
  /** base64url of iv (12 bytes) | tag (16 bytes) | ciphertext */
  secretSealed: string;
  label: string;
  createdAt: number;
  /** null while the pair works */
  revokedAt: number | null;
}

/** What the Sinch layer reads from storage: its credential pairs, and verifications found the ways Sinch finds them. */
export interface SinchStore {
  insertSinchCredential(record: SinchCredentialRecord): Promise<void>;
  /** the working pair with this application key */
  findSinchCredential(applicationKey: string): Promise<SinchCredentialRecord | undefined>;
  /** the application's working pairs, newest first */
  listSinchCredentials(applicationId: string): Promise<SinchCredentialRecord[]>;
  revokeSinchCredential(applicationId: string, id: string, now: number): Promise<boolean>;
  /** the id of the application's newest verification with this reference, or of this number */
  latestVerificationId(
    applicationId: string,
    by: { reference: string } | { phone: string },
  ): Promise<string | undefined>;
}

/** A pair as the API and the signing code use it, secret opened. */
export interface SinchPair {
  id: string;
  applicationId: string;
  applicationKey: string;
  /** base64 of 32 random bytes; Sinch's signature keys the HMAC with its base64 decoding */
  applicationSecret: string;
  createdAt: number;
}

const CACHE_TTL_MS = 10_000;
const CACHE_LIMIT = 10_000;

export class SinchCredentials {
  private readonly key: Buffer;
  private readonly cache = new Map<string, { pair: SinchPair | undefined; until: number }>();

  /** @param serverSecret FLASHVERIFY_SECRET or the generated one: the sealing key is derived from it */
  constructor(
    private readonly store: SinchStore,
    private readonly clock: Clock,
    serverSecret: string,
  ) {
    this.key = createHmac("sha256", serverSecret).update("sinch-credential-seal").digest();
  }

  /** A new pair for the application: the only time its secret is handed out. */
  async issue(applicationId: string = DEFAULT_APPLICATION_ID, label = "sinch"): Promise<SinchPair> {
    const now = this.clock.now();
    const pair: SinchPair = {
      id: newId("snk", now),
      applicationId,
      applicationKey: randomUUID(),
      applicationSecret: randomBytes(32).toString("base64"),
      createdAt: now,
    };
    await this.store.insertSinchCredential({
      id: pair.id,
      applicationId,
      applicationKey: pair.applicationKey,
      secretSealed: this.seal(pair.applicationSecret),
      label,
      createdAt: now,
      revokedAt: null,
    });
    return pair;
  }

  /**
   * The working pair of an application key, secret opened; undefined for an unknown or revoked key. Cached like API
   * keys: a pair revoked through another server process stops working there within 10 s.
   */
  async find(applicationKey: string): Promise<SinchPair | undefined> {
    const now = this.clock.now();
    const cached = this.cache.get(applicationKey);
    if (cached && cached.until > now) return cached.pair;
    const record = await this.store.findSinchCredential(applicationKey);
    const pair = record && this.open(record);
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(applicationKey, { pair, until: now + CACHE_TTL_MS });
    return pair;
  }

  /** The pair that signs an application's Sinch callbacks: its newest working one. */
  async signingPair(applicationId: string): Promise<SinchPair | undefined> {
    const [newest] = await this.store.listSinchCredentials(applicationId);
    return newest && this.open(newest);
  }

  async revoke(applicationId: string, id: string): Promise<boolean> {
    const revoked = await this.store.revokeSinchCredential(applicationId, id, this.clock.now());
    if (revoked) this.cache.clear();
    return revoked;
  }

  list(applicationId: string): Promise<SinchCredentialRecord[]> {
    return this.store.listSinchCredentials(applicationId);
  }

  private seal(secret: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    const sealed = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString("base64url");
  }

  /** Opens a sealed secret; a record sealed under another server secret does not open and counts as no pair. */
  private open(record: SinchCredentialRecord): SinchPair | undefined {
    const bytes = Buffer.from(record.secretSealed, "base64url");
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.key, bytes.subarray(0, 12));
      decipher.setAuthTag(bytes.subarray(12, 28));
      const secret = Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString("utf8");
      return {
        id: record.id,
        applicationId: record.applicationId,
        applicationKey: record.applicationKey,
        applicationSecret: secret,
        createdAt: record.createdAt,
      };
    } catch {
      return undefined;
    }
  }
}

/** Constant-time comparison of two secrets of any length (HMACs of both, so lengths say nothing either). */
export function secretEquals(a: string, b: string): boolean {
  const key = randomBytes(16);
  const x = createHmac("sha256", key).update(a).digest();
  const y = createHmac("sha256", key).update(b).digest();
  return timingSafeEqual(x, y);
}
