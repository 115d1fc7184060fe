/** `flashverify serve`: run until SIGINT/SIGTERM, then shut down gracefully. */
import type { Config } from "../config.js";
import { startServer } from "../server.js";

/** Resolves -1: the process keeps running until a signal stops it. */
export async function serve(config: Config): Promise<number> {
  const server = await startServer(config);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
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
