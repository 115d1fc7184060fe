/**
 * Applications: each has its own verifications, keys, webhook endpoints and fraud lists. The default application
 * (`app_default`, created at start, the one `FLASHVERIFY_API_KEY` and `flashverify keys create` serve) is the
 * operator's: its keys may also list and create applications and manage the server-wide caller-ID pools.
 */
import type { ApiKeys } from "./api-keys.js";
import { DEFAULT_APPLICATION_ID } from "./api-keys.js";
import { newId } from "./ids.js";
import type { ApplicationRecord, OperatorStore } from "./operator-store.js";
import type { ApiKeyRecord, Clock, Store } from "./ports.js";

/** True for the operator's application, whose keys manage the server as a whole. */
export const isOperator = (applicationId: string): boolean => applicationId === DEFAULT_APPLICATION_ID;

export class Applications {
  constructor(
    private readonly store: Store & { readonly operator: OperatorStore },
    private readonly apiKeys: ApiKeys,
    private readonly clock: Clock,
  ) {}

  list(): Promise<ApplicationRecord[]> {
    return this.store.operator.listApplications();
  }

  /** A new application with its first key (returned once, like every key). */
  async create(name: string): Promise<{ application: ApplicationRecord; key: string; record: ApiKeyRecord }> {
    const now = this.clock.now();
    const application = { id: newId("app", now), name, createdAt: now };
    await this.store.ensureApplication(application);
    const { key, record } = await this.apiKeys.issue(application.id, "first key");
    return { application, key, record };
  }
}
