/**
 * `flashverify serve` from the sources in a child process, for the tests that kill it: resolves with its URL once
 * it logs that it is serving.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** resolves when the process has exited */
  exited: Promise<void>;
  /** every line it has written to stdout so far (its JSON log), in order */
  lines: string[];
}

export function spawnServer(env: Record<string, string>, timeoutMs = 30_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, ["--import", "./test/support/ts-register.mjs", "src/cli/main.ts", "serve"], {
    env: { PATH: process.env.PATH, PORT: "0", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start within ${timeoutMs} ms`)), timeoutMs);
    child.once("exit", (code) => reject(new Error(`the server exited with ${code}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      lines.push(line);
      let entry: { msg?: string; url?: string };
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      if (entry.msg === "flashverify is serving" && entry.url) {
        clearTimeout(timer);
        resolve({ child, url: entry.url, exited, lines });
      }
    });
  });
}
