/** `flashverify serve`: run until SIGINT/SIGTERM, then shut down gracefully and exit 0. */
import { setFlagsFromString } from "node:v8";
import type { Config } from "../config.js";
import { startServer } from "../server.js";

/**
 * How far V8 lets the heap grow past what survived the last full collection before it collects again. Its own
 * choice on a machine with a few GiB of memory is up to 4x, which for a server holding 100,000 live verifications
 * (rate-limit windows, calls in progress) means 250 MB of heap where 70 MB are live; at 10% the same load holds
 * about 115 MB (npm run bench:memory, README "Memory"). The SIP worker thread is started after this and gets it
 * too. Set before anything is allocated for the long run.
 */
const HEAP_GROWING_PERCENT = 10;

/** Resolves -1: the process keeps running until a signal stops it. */
export async function serve(config: Config): Promise<number> {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
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
