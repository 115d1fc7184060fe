/**
 * Interop suites talk to real peers (SIPp today; PostgreSQL, Redis and others later). On a developer's machine a
 * missing peer skips its suite with a clear message; CI sets `FLASHVERIFY_REQUIRE_PEERS=sipp,...` so a missing peer
 * fails the run instead of silently skipping it.
 *
 * @example
 * const sipp = peerAvailable("sipp", () => commandExists("sipp"));
 * describe.skipIf(!sipp)("UAC against SIPp", () => { ... });
 */
import { spawnSync } from "node:child_process";

const required = new Set(
  (process.env.FLASHVERIFY_REQUIRE_PEERS ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
);

/** True when the peer can be used. Throws when it is missing but required; logs a skip notice otherwise. */
export function peerAvailable(name: string, probe: () => boolean): boolean {
  if (probe()) return true;
  if (required.has(name)) {
    throw new Error(`${name} is required (FLASHVERIFY_REQUIRE_PEERS=${[...required].join(",")}) but is not available`);
  }
  console.warn(`[skipped] ${name} is not available here: its interop suite is skipped (CI makes it mandatory)`);
  return false;
}

export function commandExists(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}
