/** `flashverify keys create`: a new API key, printed once (only its hash is stored). */

import type { Config } from "../config.js";
import { ApiKeys, DEFAULT_APPLICATION_ID } from "../core/api-keys.js";
import { systemClock } from "../core/ports.js";
import { openStore } from "../storage/index.js";

export async function keysCreate(config: Config, options: { app?: string; label?: string }): Promise<number> {
  const applicationId = options.app ?? DEFAULT_APPLICATION_ID;
  if (!/^app_[a-z0-9_-]{1,60}$/.test(applicationId)) {
    console.error("--app must look like app_name (lowercase letters, digits, _ and -)");
    return 2;
  }
  const store = openStore(config.DATABASE_URL);
  try {
    await store.migrate();
    const key = await new ApiKeys(store, systemClock).create(applicationId, options.label ?? "cli");
    console.log(key);
    return 0;
  } finally {
    await store.close();
  }
}
