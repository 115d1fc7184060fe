import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { lockDatabaseForServer } from "./server-lock.js";

const dir = mkdtempSync(join(tmpdir(), "flashverify-lock-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("refuses a second server on one database while the first lives, and takes over after it died", async () => {
  const db = join(dir, "flashverify.db");
  const other = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  try {
    writeFileSync(`${db}.server-lock`, String(other.pid));
    expect(() => lockDatabaseForServer(`sqlite:${db}`)).toThrow(`another flashverify server (pid ${other.pid})`);
  } finally {
    other.kill("SIGKILL");
    await new Promise((resolve) => other.once("exit", resolve));
  }
  const release = lockDatabaseForServer(`sqlite:${db}`);
  expect(readFileSync(`${db}.server-lock`, "utf8")).toBe(String(process.pid));
  release();
  expect(existsSync(`${db}.server-lock`)).toBe(false);
  expect(lockDatabaseForServer("sqlite::memory:")).toBeTypeOf("function");
});

it("creates the database's folder when it does not exist yet (a fresh machine)", () => {
  const db = join(dir, "not-yet", "deeper", "flashverify.db");
  const release = lockDatabaseForServer(`sqlite:${db}`);
  expect(existsSync(`${db}.server-lock`)).toBe(true);
  release();
});
