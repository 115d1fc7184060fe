/**
 * API keys: random bearer secrets (`fv_...`) stored only as SHA-256 hashes, resolved to their application.
 * Resolutions are cached in memory because every backend request needs one.
 */
import { hashToken } from "./codes.js";
import { newId, newSecret } from "./ids.js";
import type { Clock, Store } from "./ports.js";

export const DEFAULT_APPLICATION_ID = "app_default";
const CACHE_LIMIT = 10_000;

export class ApiKeys {
  private readonly cache = new Map<string, string>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** Creates a key for an application and returns it; only its hash is kept. */
  async create(applicationId: string, label: string): Promise<string> {
    const key = newSecret("fv", 32);
    await this.register(applicationId, key, label);
    return key;
  }

  /** Registers a key chosen by the operator (FLASHVERIFY_API_KEY); a no-op when it is already registered. */
  async register(applicationId: string, key: string, label: string): Promise<void> {
    const now = this.clock.now();
    await this.store.ensureApplication({ id: applicationId, name: applicationId.replace(/^app_/, ""), createdAt: now });
    await this.store.insertApiKey({
      id: newId("key", now),
      applicationId,
      keyHash: hashToken(key),
      label,
      createdAt: now,
    });
  }

  /** The application a key belongs to, or undefined for an unknown key. */
  async resolve(key: string): Promise<string | undefined> {
    const hash = hashToken(key);
    const cached = this.cache.get(hash);
    if (cached) return cached;
    const record = await this.store.findApiKey(hash);
    if (!record) return undefined;
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(hash, record.applicationId);
    return record.applicationId;
  }
}
