/**
 * API keys: random bearer secrets (`fv_...`) stored only as SHA-256 hashes, resolved to their application.
 * Resolutions are cached in memory because every backend request needs one; a cached answer is trusted for
 * CACHE_TTL_MS, so a key revoked through another server process stops working there within that time (at once
 * in this one).
 */
import { hashToken } from "./codes.js";
import { newId, newSecret } from "./ids.js";
import type { OperatorStore, StoredApiKey } from "./operator-store.js";
import type { ApiKeyRecord, Clock, Store } from "./ports.js";

export const DEFAULT_APPLICATION_ID = "app_default";
const CACHE_LIMIT = 10_000;
export const CACHE_TTL_MS = 10_000;

export class ApiKeys {
  private readonly cache = new Map<string, { applicationId: string; keyId: string; until: number }>();

  constructor(
    private readonly store: Store & { readonly operator: OperatorStore },
    private readonly clock: Clock,
  ) {}

  /** Creates a key for an application and returns it; only its hash is kept. */
  async create(applicationId: string, label: string): Promise<string> {
    return (await this.issue(applicationId, label)).key;
  }

  /** Creates a key and returns it with its record: the only time the key itself is seen. */
  async issue(applicationId: string, label: string): Promise<{ key: string; record: ApiKeyRecord }> {
    const key = newSecret("fv", 32);
    const record = await this.register(applicationId, key, label);
    return { key, record };
  }

  /** Registers a key chosen by the operator (FLASHVERIFY_API_KEY); a no-op when it is already registered. */
  async register(applicationId: string, key: string, label: string): Promise<ApiKeyRecord> {
    const now = this.clock.now();
    await this.store.ensureApplication({ id: applicationId, name: applicationId.replace(/^app_/, ""), createdAt: now });
    const record = { id: newId("key", now), applicationId, keyHash: hashToken(key), label, createdAt: now };
    await this.store.insertApiKey(record);
    return record;
  }

  /** The id of a working key's record (`key_...`), for audit trails; never the key itself. */
  async idOf(key: string): Promise<string | undefined> {
    return (await this.store.findApiKey(hashToken(key)))?.id;
  }

  /** The application a key belongs to, or undefined for an unknown key. */
  async resolve(key: string): Promise<string | undefined> {
    return (await this.identify(key))?.applicationId;
  }

  /** The application a key belongs to and the key's id (who did what, for audit records); undefined if unknown. */
  async identify(key: string): Promise<{ applicationId: string; keyId: string } | undefined> {
    const hash = hashToken(key);
    const now = this.clock.now();
    const cached = this.cache.get(hash);
    if (cached && cached.until > now) return cached;
    const record = await this.store.findApiKey(hash);
    if (!record) {
      this.cache.delete(hash);
      return undefined;
    }
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    const entry = { applicationId: record.applicationId, keyId: record.id, until: now + CACHE_TTL_MS };
    this.cache.set(hash, entry);
    return entry;
  }

  /** An application's keys (hashes never leave the store's records: views show id, label and dates). */
  list(applicationId: string): Promise<StoredApiKey[]> {
    return this.store.operator.listApiKeys(applicationId);
  }

  /** Revokes a key of the application; false when it has no such working key. */
  async revoke(applicationId: string, id: string): Promise<boolean> {
    const revoked = await this.store.operator.revokeApiKey(applicationId, id, this.clock.now());
    // The cache is keyed by hash; dropping it all is simpler than finding the one entry, and revocations are rare.
    if (revoked) this.cache.clear();
    return revoked;
  }
}
