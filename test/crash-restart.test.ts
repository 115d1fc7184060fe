/**
 * A crash loses nothing: the server is killed with SIGKILL while a flash call rings, restarted on the same
 * database, and the verification is still there, still checkable with the caller ID the handset saw.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { type ServerProcess, spawnServer } from "./support/server-process.js";

const dir = mkdtempSync(join(tmpdir(), "flashverify-crash-"));
const KEY = "fv_crash_test_key_0123456789";
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

/** Starts `flashverify serve` from the sources on this test's database. */
async function startServer(): Promise<ServerProcess> {
  const server = await spawnServer({
    DATABASE_URL: `sqlite:${join(dir, "flashverify.db")}`,
    FLASHVERIFY_API_KEY: KEY,
    SANDBOX_SIP_PORT: "0",
    SANDBOX_SMPP_PORT: "0",
    SANDBOX_SMTP_PORT: "0",
    // Rings long enough for the kill to land mid-call.
    SIP_RING_TIME_MS: "20000",
  });
  children.push(server.child);
  return server;
}

async function json(url: string, init?: RequestInit): Promise<Record<string, unknown>> {
  const response = await fetch(url, init);
  return (await response.json()) as Record<string, unknown>;
}

const headers = { authorization: `Bearer ${KEY}`, "content-type": "application/json" };

it("resumes a verification whose call was ringing when the server was killed", async () => {
  const first = await startServer();
  const phone = "+447400500001";
  // A freshly started server on a busy machine may still be shedding load (503 OVERLOADED): retry as a client would.
  let started: Record<string, unknown> = {};
  for (let i = 0; i < 50 && !started.id; i++) {
    started = await json(`${first.url}/v1/verifications`, { method: "POST", headers, body: JSON.stringify({ phone }) });
    if (!started.id) await new Promise((resolve) => setTimeout(resolve, 200));
  }
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
}, 120_000);
