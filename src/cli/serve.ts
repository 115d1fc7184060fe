/** `flashverify serve`: run until SIGINT/SIGTERM, then shut down gracefully and exit 0. */
import type { Config } from "../config.js";
import { startServer } from "../server.js";
import { startHeapBudget } from "./heap-budget.js";

/** Resolves -1: the process keeps running until a signal stops it. */
export async function serve(config: Config): Promise<number> {
  // Before anything long-lived is allocated; the SIP worker thread's isolate follows the same flag.
  if (config.HEAP_BUDGET_MB > 0) startHeapBudget(config.HEAP_BUDGET_MB * 1e6);
  const server = await startServer(config);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    // Once: a second signal of the same kind ends the process at once, the way an impatient operator means it.
    process.once(signal, () => {
      server.stop().then(
        () => process.exit(0),
        (error: unknown) => {
          console.error("flashverify: shutdown failed", error);
          process.exit(1);
        },
      );
    });
  }
  return -1;
}
