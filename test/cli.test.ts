/** The flashverify CLI's subcommands, run in-process against a temporary SQLite file and a real server. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { keysCreate } from "../src/cli/keys.js";
import { migrate } from "../src/cli/migrate.js";
import { poolAdd } from "../src/cli/pool.js";
import { verify } from "../src/cli/verify.js";
import { loadConfig } from "../src/config.js";
import { startServer } from "../src/server.js";
import { openSqliteStore } from "../src/storage/sqlite.js";

const dir = mkdtempSync(join(tmpdir(), "flashverify-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

const configFor = (name: string, env: Record<string, string> = {}) =>
  loadConfig({ DATABASE_URL: `sqlite:${join(dir, name)}`, LOG_LEVEL: "silent", ...env });

function captureLog(): string[] {
  const lines: string[] = [];
  vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    lines.push(args.join(" "));
  });
  vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
    lines.push(args.join(" "));
  });
  return lines;
}

describe("flashverify CLI", () => {
  it("migrate creates the schema", async () => {
    const log = captureLog();
    expect(await migrate(configFor("migrate.db"))).toBe(0);
    expect(log).toContain("migrations applied");
  });

  it("keys create prints a key that authenticates, and stores only its hash", async () => {
    const log = captureLog();
    const config = configFor("keys.db");
    expect(await keysCreate(config, {})).toBe(0);
    const key = log[0] ?? "";
    expect(key).toMatch(/^fv_[A-Za-z0-9_-]{40,}$/);
    const store = openSqliteStore(join(dir, "keys.db"));
    await store.migrate();
    const { hashToken } = await import("../src/core/codes.js");
    expect(await store.findApiKey(hashToken(key))).toMatchObject({ applicationId: "app_default" });
    await store.close();
    expect(await keysCreate(config, { app: "Not Valid" })).toBe(2);
  });

  it("keys create --sinch prints a Sinch pair whose secret is kept sealed under the server secret", async () => {
    const log = captureLog();
    expect(await keysCreate(configFor("sinch.db"), { sinch: true })).toBe(0);
    const [applicationKey, applicationSecret] = (log[0] ?? "").split(" ") as [string, string];
    expect(applicationKey).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(Buffer.from(applicationSecret, "base64")).toHaveLength(32);
    const store = openSqliteStore(join(dir, "sinch.db"));
    await store.migrate();
    const row = store.db.prepare("select * from sinch_credentials").get() as { secret_sealed: string };
    expect(row.secret_sealed).not.toContain(applicationSecret);
    expect(Buffer.from(row.secret_sealed, "base64url").toString("latin1")).not.toContain(applicationSecret);
    const { SinchCredentials } = await import("../src/core/sinch-credentials.js");
    const serverSecret = await store.getOrCreateSetting("code_secret", "unused-unused-unused-unused-unused");
    const opened = await new SinchCredentials(store.sinch, { now: () => Date.now() }, serverSecret).find(
      applicationKey,
    );
    expect(opened).toMatchObject({ applicationId: "app_default", applicationSecret });
    // Under another server secret the seal does not open: the pair is as good as unknown.
    const other = new SinchCredentials(store.sinch, { now: () => Date.now() }, "another-server-secret-another-one");
    expect(await other.find(applicationKey)).toBeUndefined();
    await store.close();
  });

  it("pool add validates and reports the code space", async () => {
    const log = captureLog();
    const config = configFor("pools.db");
    expect(await poolAdd(config, { numbers: "+33999xxxxxx", countries: "fr", "code-length": "5", id: "pool_fr" })).toBe(
      0,
    );
    expect(log.at(-1)).toContain("1000000 numbers, 5-digit codes, at least 100000 codes behind any shown prefix");
    expect(await poolAdd(config, { numbers: "+33x" })).toBe(2);
    expect(await poolAdd(config, {})).toBe(2);
    const store = openSqliteStore(join(dir, "pools.db"));
    await store.migrate();
    expect(await store.listPools()).toEqual([
      expect.objectContaining({ id: "pool_fr", countries: ["FR"], codeLength: 5 }),
    ]);
    await store.close();
  });

  it("verify runs one verification against a running server and prints each step", async () => {
    const config = configFor("verify.db", {
      PORT: "0",
      SANDBOX_SIP_PORT: "0",
      SANDBOX_SMPP_PORT: "0",
      SANDBOX_SMTP_PORT: "0",
      SIP_RING_TIME_MS: "100",
      FLASHVERIFY_API_KEY: "fv_cli_test_key_0123456789",
      OVERLOAD_MAX_LAG_MS: "0",
    });
    const server = await startServer(config);
    try {
      const log = captureLog();
      const code = await verify(config, "+447400400001", { url: server.url, key: "fv_cli_test_key_0123456789" });
      expect(log.join("\n")).toMatch(/started ver_.*calling \+447400400001 from \+4420794\d\*{4}/);
      expect(log.join("\n")).toMatch(/missed call seen on the handset from \+4420794\d{5}/);
      expect(log.at(-1)).toMatch(/: verified$/);
      expect(code).toBe(0);
      expect(await verify(config, "+447400400486", { url: server.url, key: "fv_cli_test_key_0123456789" })).toBe(1);
      expect(log.at(-1)).toContain("verification failed (attempt_failed)");
    } finally {
      await server.stop();
    }
  });
});
