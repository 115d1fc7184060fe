import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";

describe("loadConfig", () => {
  it("gives a newcomer working defaults: sandbox on, SQLite, port 8080", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      PORT: 8080,
      HOST: "127.0.0.1",
      DATABASE_URL: "sqlite:./data/flashverify.db",
      SANDBOX: "on",
      SIP_RING_TIME_MS: 1500,
      FLASHCALL_TTL_SECONDS: 60,
      FLASHCALL_MAX_CHECKS: 3,
      POOL_CODE_LENGTH: 4,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("names the variable that is wrong", () => {
    expect(() => loadConfig({ PORT: "eighty" })).toThrow(/PORT/);
    expect(() => loadConfig({ FLASHCALL_TTL_SECONDS: "121" })).toThrow(/FLASHCALL_TTL_SECONDS/);
    expect(() => loadConfig({ VERIFICATION_TTL_SECONDS: "601" })).toThrow(/VERIFICATION_TTL_SECONDS/);
    expect(() => loadConfig({ SANDBOX: "maybe" })).toThrow(/SANDBOX/);
    expect(() => loadConfig({ POOL_NUMBERS: "+44x20" })).toThrow(/POOL_NUMBERS/);
    expect(() => loadConfig({ FLASHVERIFY_API_KEY: "short" })).toThrow(ConfigError);
  });

  it("keeps the sandbox, which shows caller IDs to anyone, off public addresses unless told otherwise", () => {
    expect(() => loadConfig({ HOST: "0.0.0.0" })).toThrow(/HOST: with SANDBOX=on/);
    expect(loadConfig({ HOST: "0.0.0.0", SANDBOX_PUBLIC: "on" }).HOST).toBe("0.0.0.0");
    expect(loadConfig({ HOST: "0.0.0.0", SANDBOX: "off", SIP_TRUNK_HOST: "sbc.example.net" }).HOST).toBe("0.0.0.0");
  });

  it("requires a trunk when the sandbox is off", () => {
    expect(() => loadConfig({ SANDBOX: "off" })).toThrow(/SIP_TRUNK_HOST: is required/);
    expect(loadConfig({ SANDBOX: "off", SIP_TRUNK_HOST: "sbc.example.net" }).SIP_TRUNK_HOST).toBe("sbc.example.net");
  });

  it("reads a JSON config file, with the environment taking precedence", async () => {
    const { writeFileSync, mkdtempSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const file = join(mkdtempSync(join(tmpdir(), "fv-config-")), "config.json");
    writeFileSync(file, JSON.stringify({ PORT: 9000, POOL_NUMBERS: "+4420794xxxxx, +441632960123" }));
    const config = loadConfig({ FLASHVERIFY_CONFIG: file, PORT: "9001" });
    expect(config.PORT).toBe(9001);
    expect(config.POOL_NUMBERS).toEqual(["+4420794xxxxx", "+441632960123"]);
    expect(() => loadConfig({ FLASHVERIFY_CONFIG: join(file, "missing") })).toThrow(/FLASHVERIFY_CONFIG/);
  });
});
