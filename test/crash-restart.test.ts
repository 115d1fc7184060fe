/**
 * A crash loses nothing: the server is killed with SIGKILL while a flash call rings, restarted on the same
 * database, and the verification is still there, still checkable with the caller ID the handset saw.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, expect, it } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "flashverify-crash-"));
const KEY = "fv_crash_test_key_0123456789";
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

/** Starts `flashverify serve` from the sources in a child process and resolves with its URL. */
function startServer(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ["--import", "./test/support/ts-register.mjs", "src/cli/main.ts", "serve"], {
    env: {
      PATH: process.env.PATH,
      PORT: "0",
      DATABASE_URL: `sqlite:${join(dir, "flashverify.db")}`,
      FLASHVERIFY_API_KEY: KEY,
      SANDBOX_SIP_PORT: "0",
      // Rings long enough for the kill to land mid-call.
      SIP_RING_TIME_MS: "20000",
      LOG_LEVEL: "info",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the server did not start within 15 s")), 15_000);
    child.once("exit", (code) => reject(new Error(`the server exited with ${code}`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg === "flashverify is serving" && entry.url) {
        clearTimeout(timer);
        resolve({ child, url: entry.url });
      }
    });
  });
}

async function json(url: string, init?: RequestInit): Promise<Record<string, unknown>> {
  const response = await fetch(url, init);
  return (await response.json()) as Record<string, unknown>;
}

const headers = { authorization: `Bearer ${KEY}`, "content-type": "application/json" };

it("resumes a verification whose call was ringing when the server was killed", async () => {
  const first = await startServer();
  const phone = "+447400500001";
  const started = await json(`${first.url}/v1/verifications`, {
    method: "POST",
    headers,
    body: JSON.stringify({ phone }),
  });
  let from: string | undefined;
  for (let i = 0; i < 200 && !from; i++) {
    const handset = await json(`${first.url}/sandbox/phones/${phone}`);
    from = (handset.calls as { from: string; result: string }[])[0]?.from;
    if (!from) await new Promise((resolve) => setTimeout(resolve, 25));
  }
  expect(from).toMatch(/^\+4420794\d{5}$/);
  for (let i = 0; i < 200; i++) {
    const status = await json(`${first.url}/v1/verifications/${started.id}`, { headers });
    if ((status.attempts as { status: string }[])[0]?.status === "ringing") break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }

  first.child.kill("SIGKILL");
  await new Promise((resolve) => first.child.once("exit", resolve));

  const second = await startServer();
  const after = await json(`${second.url}/v1/verifications/${started.id}`, { headers });
  expect(after).toMatchObject({ status: "pending", attempts_remaining: 3 });
  expect((after.attempts as unknown[])[0]).toMatchObject({ status: "delivered", reason: "interrupted" });
  const checked = await json(`${second.url}/v1/verifications/${started.id}/check`, {
    method: "POST",
    headers,
    body: JSON.stringify({ caller_id: from }),
  });
  expect(checked).toEqual({ id: started.id, status: "verified", attempts_remaining: 0 });
  second.child.kill("SIGTERM");
  await new Promise((resolve) => second.child.once("exit", resolve));
}, 60_000);
