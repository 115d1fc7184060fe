/**
 * Redis for the suites that need it: the machine's server (FLASHVERIFY_TEST_REDIS_URL, default
 * redis://127.0.0.1:6379) for shared state, and private `redis-server` processes for the tests that stop Redis,
 * so they never disturb anyone else's.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { peerAvailable } from "./peers.js";

export const REDIS_URL = process.env.FLASHVERIFY_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

export function redisAvailable(): boolean {
  return peerAvailable("redis", () => {
    const ping = spawnSync("redis-cli", ["-u", REDIS_URL, "ping"], { encoding: "utf8" });
    return ping.status === 0 && ping.stdout.trim() === "PONG" && spawnSync("redis-server", ["--version"]).status === 0;
  });
}

/** A redis-server of the test's own on `address:port`, keeping nothing on disk. */
export async function startPrivateRedis(
  address: string,
  port: number,
): Promise<{ url: string; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(
    "redis-server",
    ["--bind", address, "--port", String(port), "--save", "", "--appendonly", "no"],
    { stdio: "ignore" },
  );
  const url = `redis://${address}:${port}`;
  for (let i = 0; i < 100; i++) {
    if (spawnSync("redis-cli", ["-u", url, "ping"], { encoding: "utf8" }).stdout?.trim() === "PONG") break;
    await sleep(50);
  }
  return {
    url,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGKILL");
      await once(child, "exit");
    },
  };
}
