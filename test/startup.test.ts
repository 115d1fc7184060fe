/**
 * What the server says when it starts, and what it refuses to start with: the startup lines (pages, carrier, how to
 * get a key) with every URL they name answering; SANDBOX=off without a caller-ID pool stopped with what to change;
 * and the CLI reporting an API refusal as one line and a non-zero exit, without a stack trace.
 */
import { execFile } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtempSync, rmSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";
import { startServer } from "../src/server.js";
import { createServices } from "../src/services.js";
import { startupLines } from "../src/startup-lines.js";

const ADDRESS = "127.0.0.122";
const KEY = "fv_startup_test_key_0123456789";
const dir = mkdtempSync(join(tmpdir(), "flashverify-startup-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function freeUdpPort(): Promise<number> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, ADDRESS, resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

const configFor = (name: string, env: Record<string, string> = {}) =>
  loadConfig({
    DATABASE_URL: `sqlite:${join(dir, name)}`,
    HOST: ADDRESS,
    PORT: "0",
    SANDBOX_SIP_ADDRESS: ADDRESS,
    SIP_LOCAL_ADDRESS: ADDRESS,
    SANDBOX_SIP_PORT: "0",
    SANDBOX_SMPP_PORT: "0",
    SANDBOX_SMTP_PORT: "0",
    LOG_LEVEL: "silent",
    OVERLOAD_MAX_LAG_MS: "0",
    ...env,
  });

describe("the startup lines", () => {
  it("name the pages, the sandbox and how to create a key; every URL they name answers", async () => {
    const lines: string[] = [];
    const server = await startServer(configFor("lines.db"), { print: (line) => lines.push(line) });
    try {
      expect(lines[0]).toBe(`flashverify is serving at ${server.url}`);
      const text = lines.join("\n");
      expect(text).toContain(`demo       ${server.url}/demo`);
      expect(text).toContain(`dashboard  ${server.url}/dashboard`);
      expect(text).toContain(`API docs   ${server.url}/docs`);
      expect(text).toMatch(
        new RegExp(`carrier +sandbox: virtual handsets at sip:${ADDRESS.replace(/\./g, "\\.")}:\\d+`),
      );
      expect(text).toContain("pool_default (100000 numbers, 4-digit codes)");
      expect(text).toContain("npm run -s flashverify -- keys create");
      const urls = [
        ...lines
          .slice(1)
          .join("\n")
          .matchAll(/https?:\/\/\S+/g),
      ].map((m) => m[0].replace(/[),]$/, ""));
      expect(urls.length).toBe(4);
      for (const url of urls) expect((await fetch(url)).status, url).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it("name the trunks without the sandbox, and a key given by the environment", () => {
    const lines = startupLines({
      url: "http://0.0.0.0:8080",
      sandbox: null,
      trunks: [
        { id: "carrier-a", host: "sip.carrier-a.example", transport: "tls" },
        { id: "carrier-b", host: "203.0.113.40", port: 5060, transport: "udp" },
      ],
      pools: [{ id: "pool_default", size: 10_000, codeLength: 4 }],
      apiKeyFromEnv: true,
    });
    expect(lines).toEqual([
      "flashverify is serving at http://0.0.0.0:8080",
      "  dashboard  http://127.0.0.1:8080/dashboard (sign in with an API key)",
      "  API docs   http://127.0.0.1:8080/docs (OpenAPI document: http://127.0.0.1:8080/openapi.json)",
      "  carrier    trunks: carrier-a (tls sip.carrier-a.example), carrier-b (udp 203.0.113.40:5060)",
      "  caller IDs pool_default (10000 numbers, 4-digit codes)",
      "  API key    FLASHVERIFY_API_KEY is registered for the default application",
    ]);
  });
});

describe("what the server refuses to start with", () => {
  it("SANDBOX=off without any caller-ID pool: every flash call would be refused, so it says what to set", async () => {
    const env = { SANDBOX: "off", SIP_TRUNK_HOST: ADDRESS };
    const config = configFor("no-pool.db", env);
    const failure = await createServices(config).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ConfigError);
    expect((failure as Error).message).toMatch(/NO_POOL_FOR_DESTINATION.*POOL_NUMBERS.*flashverify pool add/);
    // The database was released: the same configuration with a pool starts.
    const services = await createServices(configFor("no-pool.db", { ...env, POOL_NUMBERS: "+44207946xxxx" }));
    await services.close();
  });

  it("a start that fails part-way releases what it had acquired: the database's lease and the sockets it bound", async () => {
    // The SMSC's port is taken, so the start fails after the lease, the store and the SIP handsets.
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, ADDRESS, resolve));
    const smppPort = String((taken.address() as AddressInfo).port);
    const sipPort = await freeUdpPort();
    try {
      const env = { SANDBOX_SIP_PORT: String(sipPort), SANDBOX_SMPP_PORT: smppPort };
      await expect(createServices(configFor("failed-start.db", env))).rejects.toThrow(/EADDRINUSE/);
      // The handsets' port is free again ...
      const socket = createSocket("udp4");
      await new Promise<void>((resolve, reject) => {
        socket.once("error", reject);
        socket.bind(sipPort, ADDRESS, resolve);
      });
      socket.close();
    } finally {
      taken.close();
    }
    // ... and the lease is released: the same database starts at once (a lease left held would make it wait, then
    // refuse it).
    const started = Date.now();
    const services = await createServices(configFor("failed-start.db"));
    expect(Date.now() - started).toBeLessThan(5000);
    await services.close();
  });

  it("a POOL_NUMBERS too small for the guess-probability bound", () => {
    expect(() => configFor("small.db", { POOL_NUMBERS: "+442079460xxx" })).toThrow(
      /POOL_NUMBERS: only 1000 caller IDs share a shown prefix.*probability 0\.003.*at least 3000 numbers/,
    );
    expect(configFor("small.db", { POOL_NUMBERS: "+442079460xxx", FLASHCALL_MAX_CHECKS: "1" }).POOL_NUMBERS).toEqual([
      "+442079460xxx",
    ]);
  });
});

describe("the CLI", () => {
  // Asynchronous: the server the CLI talks to runs in this process.
  const cli = (args: string[]) =>
    new Promise<{ status: number | null; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ["--import", "./test/support/ts-register.mjs", "src/cli/main.ts", ...args],
        { env: { PATH: process.env.PATH, DATABASE_URL: `sqlite:${join(dir, "cli.db")}` }, timeout: 50_000 },
        (error, _stdout, stderr) => resolve({ status: error ? (error.code as number) : 0, stderr }),
      );
    });

  it("prints an API refusal as one line with its code and message, and exits non-zero", async () => {
    const server = await startServer(configFor("cli-server.db", { FLASHVERIFY_API_KEY: KEY }));
    try {
      // A landline with the default flash-call workflow: refused before anything is sent.
      const run = await cli(["verify", "+442079460123", "--url", server.url, "--key", KEY]);
      expect(run.status).toBe(1);
      const lines = run.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^flashverify: POST \/v1\/verifications: 422 [A-Z_]+: \S.*$/);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await server.stop();
    }
  }, 60_000);

  it("prints a server it cannot reach as one line", async () => {
    const run = await cli(["verify", "+447400123456", "--url", `http://${ADDRESS}:59999`, "--key", KEY]);
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toMatch(/^flashverify: cannot reach http:\/\/127\.0\.0\.122:59999: ECONNREFUSED/);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
  }, 60_000);
});
