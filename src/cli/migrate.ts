/** `flashverify migrate`: bring the database schema up to date and exit. */
import type { Config } from "../config.js";
import { openStore } from "../storage/index.js";

export async function migrate(config: Config): Promise<number> {
  const store = openStore(config.DATABASE_URL);
  try {
    await store.migrate();
    console.log("migrations applied");
    return 0;
  } finally {
    await store.close();
  }
}
