/** `flashverify serve`: run until SIGINT/SIGTERM, then shut down gracefully and exit 0. */
import { setFlagsFromString } from "node:v8";
import type { Config } from "../config.js";
import { startServer } from "../server.js";

/** Resolves -1: the process keeps running until a signal stops it. */
export async function serve(config: Config): Promise<number> {
  // How far V8 lets the heap grow past what survived the last full collection. Its own choice on a machine with a
  // few GiB is up to 4x, which for 100,000 live verifications (rate-limit windows, calls in progress) means 250 MiB
  // of heap where 70 MiB are live; at 10% the same load holds about 130 MiB, for more time in GC (npm run
  // bench:memory, README "Memory"). Set before anything long-lived is allocated; the SIP worker thread gets it too.
  if (config.HEAP_GROWING_PERCENT > 0) setFlagsFromString(`--heap-growing-percent=${config.HEAP_GROWING_PERCENT}`);
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
