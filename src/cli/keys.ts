/**
 * `flashverify keys create`: a new API key, printed once (only its hash is stored); with `--sinch`, a Sinch
 * credential pair for the Sinch-compatible API, printed as `<application key> <application secret>`.
 */

import type { Config } from "../config.js";
import { ApiKeys, DEFAULT_APPLICATION_ID } from "../core/api-keys.js";
import { newSecret } from "../core/ids.js";
import { systemClock } from "../core/ports.js";
import { SinchCredentials } from "../core/sinch-credentials.js";
import { openStore } from "../storage/index.js";

export async function keysCreate(
  config: Config,
  options: { app?: string; label?: string; sinch?: boolean },
): Promise<number> {
  const applicationId = options.app ?? DEFAULT_APPLICATION_ID;
  if (!/^app_[a-z0-9_-]{1,60}$/.test(applicationId)) {
    console.error("--app must look like app_name (lowercase letters, digits, _ and -)");
    return 2;
  }
  const store = openStore(config.DATABASE_URL);
  try {
    await store.migrate();
    if (options.sinch) {
      // Sealed under the same server secret the server uses (FLASHVERIFY_SECRET, else the one kept in the database).
      const secret = config.FLASHVERIFY_SECRET ?? (await store.getOrCreateSetting("code_secret", newSecret("fvs", 32)));
      await store.ensureApplication({
        id: applicationId,
        name: applicationId.replace(/^app_/, ""),
        createdAt: Date.now(),
      });
      const pair = await new SinchCredentials(store.sinch, systemClock, secret).issue(
        applicationId,
        options.label ?? "sinch",
      );
      console.log(`${pair.applicationKey} ${pair.applicationSecret}`);
      return 0;
    }
    const key = await new ApiKeys(store, systemClock).create(applicationId, options.label ?? "cli");
    console.log(key);
    return 0;
  } finally {
    await store.close();
  }
}
