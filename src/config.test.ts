import { describe, expect, it } from "vitest";
import { assertSandboxHost, ConfigError, loadConfig } from "./config.js";

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
      HEAP_BUDGET_MB: 90,
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
    expect(() => loadConfig({ HEAP_BUDGET_MB: "-1" })).toThrow(/HEAP_BUDGET_MB/);
  });

  it("reads RATE_CARD as prices over the shipped card, and refuses one it cannot read", () => {
    const config = loadConfig({
      RATE_CARD: '{"flashcall": {"RU": {"attempt": 0.004}, "DEFAULT": {"delivered": 0.02}}}',
    });
    expect(config.RATE_CARD).toEqual({ flashcall: { RU: { attempt: 0.004 }, DEFAULT: { delivered: 0.02 } } });
    expect(loadConfig({}).RATE_CARD).toEqual({});
    expect(() => loadConfig({ RATE_CARD: '{"fax": {}}' })).toThrow(/RATE_CARD/);
    expect(() => loadConfig({ RATE_CARD: '{"sms": {"gb": {"delivered": 1}}}' })).toThrow(/RATE_CARD\.sms\.gb/);
    expect(() => loadConfig({ RATE_CARD: '{"sms": {"GB": {"delivered": -1}}}' })).toThrow(/RATE_CARD/);
    expect(() => loadConfig({ RATE_CARD: '{"sms": {"GB": {"per_sms": 1}}}' })).toThrow(/RATE_CARD/);
    expect(() => loadConfig({ RATE_CARD: "not json" })).toThrow(/RATE_CARD/);
  });

  it("keeps personal data 30 days after a verification ended unless told otherwise, per application too", () => {
    expect(loadConfig({})).toMatchObject({ RETENTION_DAYS: 30, RETENTION_APPLICATIONS: {} });
    expect(loadConfig({ RETENTION_DAYS: "7", RETENTION_APPLICATIONS: '{"app_x": 90}' })).toMatchObject({
      RETENTION_DAYS: 7,
      RETENTION_APPLICATIONS: { app_x: 90 },
    });
    expect(() => loadConfig({ RETENTION_DAYS: "0" })).toThrow(/RETENTION_DAYS/);
    expect(() => loadConfig({ RETENTION_APPLICATIONS: '{"app_x": "forever"}' })).toThrow(/RETENTION_APPLICATIONS/);
  });

  it("keeps the sandbox, which shows caller IDs to anyone, off public addresses unless told otherwise", () => {
    expect(() => loadConfig({ HOST: "0.0.0.0" })).toThrow(/HOST: with SANDBOX=on/);
    expect(loadConfig({ HOST: "0.0.0.0", SANDBOX_PUBLIC: "on" }).HOST).toBe("0.0.0.0");
    expect(loadConfig({ HOST: "0.0.0.0", SANDBOX: "off", SIP_TRUNK_HOST: "sbc.example.net" }).HOST).toBe("0.0.0.0");
  });

  it("decides whether HOST is loopback on its addresses, not on how it is spelled", async () => {
    const sandbox = { SANDBOX: "on", SANDBOX_PUBLIC: "off" } as const;
    expect(() => loadConfig({ HOST: "10.0.0.1" })).toThrow(/HOST: with SANDBOX=on/);
    expect(loadConfig({ HOST: "127.0.0.9" }).HOST).toBe("127.0.0.9");
    expect(loadConfig({ HOST: "::ffff:127.0.0.1" }).HOST).toBe("::ffff:127.0.0.1");
    // A name whose DNS answer is public, though it starts with "127.": refused at start, before listening.
    const attacker = async (host: string) => (host === "127.attacker.example" ? ["198.51.100.7"] : []);
    await expect(assertSandboxHost({ ...sandbox, HOST: "127.attacker.example" }, attacker)).rejects.toThrow(
      /HOST: 127\.attacker\.example resolves to 198\.51\.100\.7, not loopback; with SANDBOX=on/,
    );
    // One public answer among loopback ones is enough to refuse.
    const mixed = async () => ["127.0.0.1", "2001:db8::1"];
    await expect(assertSandboxHost({ ...sandbox, HOST: "dev.example" }, mixed)).rejects.toThrow(ConfigError);
    await expect(assertSandboxHost({ ...sandbox, HOST: "dev.example" }, async () => [])).rejects.toThrow(/no address/);
    const unresolvable = async () => Promise.reject(new Error("ENOTFOUND"));
    await expect(assertSandboxHost({ ...sandbox, HOST: "nowhere.invalid" }, unresolvable)).rejects.toThrow(
      /does not resolve/,
    );
    // The real resolver: localhost is loopback here.
    await expect(assertSandboxHost({ ...sandbox, HOST: "localhost" })).resolves.toBeUndefined();
    await expect(assertSandboxHost({ ...sandbox, HOST: "[::1]" })).resolves.toBeUndefined();
    // With the sandbox off, or made public on purpose, HOST is the operator's choice.
    await expect(
      assertSandboxHost({ SANDBOX: "off", SANDBOX_PUBLIC: "off", HOST: "0.0.0.0" }),
    ).resolves.toBeUndefined();
    await expect(assertSandboxHost({ SANDBOX: "on", SANDBOX_PUBLIC: "on", HOST: "0.0.0.0" })).resolves.toBeUndefined();
  });

  it("requires a trunk when the sandbox is off", () => {
    expect(() => loadConfig({ SANDBOX: "off" })).toThrow(/SIP_TRUNK_HOST: is required/);
    expect(loadConfig({ SANDBOX: "off", SIP_TRUNK_HOST: "sbc.example.net" }).SIP_TRUNK_HOST).toBe("sbc.example.net");
  });

  it("parses the SMS settings into one checked case, naming what a provider is missing", () => {
    expect(loadConfig({}).sms).toEqual({ provider: "sandbox", sender: "Verify" });
    expect(loadConfig({ SANDBOX: "off", SIP_TRUNK_HOST: "sbc.example.net" }).sms).toEqual({ provider: "none" });
    const twilio = {
      SMS_PROVIDER: "twilio",
      TWILIO_ACCOUNT_SID: "AC1",
      TWILIO_AUTH_TOKEN: "t",
      SMS_SENDER: "+15005550006",
    };
    expect(loadConfig(twilio).sms).toEqual({
      provider: "twilio",
      options: { accountSid: "AC1", authToken: "t", from: "+15005550006" },
    });
    expect(() => loadConfig({ ...twilio, TWILIO_AUTH_TOKEN: "" })).toThrow(
      /TWILIO_AUTH_TOKEN: is required when SMS_PROVIDER=twilio/,
    );
    const smpp = loadConfig({ SMPP_HOST: "smsc.example.net", SMPP_SYSTEM_ID: "fv", SMPP_PASSWORD: "pw" }).sms;
    expect(smpp).toMatchObject({
      provider: "smpp",
      options: { bind: { host: "smsc.example.net", port: 2775, tls: false, systemId: "fv", password: "pw" } },
    });
    expect(() => loadConfig({ SMPP_HOST: "smsc.example.net" })).toThrow(/SMPP_SYSTEM_ID: is required/);
  });

  it("parses each part's settings into its slice: the sandbox's stand-ins with it on, nothing unconfigured off", () => {
    const sandbox = loadConfig({});
    expect(sandbox.sandbox).toEqual({ address: "127.0.0.2", sipPort: 5060, smppPort: 2775, smtpPort: 2525 });
    expect(sandbox.whatsapp?.account).toBe("sandbox");
    expect(sandbox.viber?.account).toBe("sandbox");
    expect(sandbox.email?.relay).toBe("sandbox");
    expect(sandbox.voice).toMatchObject({ callerId: "+442079460000", media: { ports: { min: 20000, max: 29999 } } });
    expect(sandbox.inbound).toMatchObject({
      numbers: ["+44207946099x"],
      listener: { address: "127.0.0.1", port: 0, tls: null },
      trustedSources: ["127.0.0.2"],
    });
    expect(sandbox.pool?.numbers).toEqual(["+4420794xxxxx"]);
    expect(sandbox.scale).toEqual({
      databaseUrl: "sqlite:./data/flashverify.db",
      singleServer: true,
      redis: null,
      limiter: "memory",
    });

    const off = loadConfig({ SANDBOX: "off", SIP_TRUNK_HOST: "sbc.example.net" });
    expect(off).toMatchObject({ sandbox: null, whatsapp: null, viber: null, email: null, voice: null, inbound: null });
    expect(off.pool).toBeNull();
    expect(off.sip).toMatchObject({ localAddress: "0.0.0.0", routes: [], trace: "off" });

    const carrier = loadConfig({
      SANDBOX: "off",
      SIP_TRUNK_HOST: "sbc.example.net",
      SIP_TRACE: "on",
      VOICE_CALLER_ID: "+442079460001",
      INBOUND_NUMBERS: "+442079460998",
      EMAIL_SMTP_HOST: "smtp.example.net",
      EMAIL_SMTP_USER: "fv",
      WHATSAPP_PHONE_NUMBER_ID: "123",
      WHATSAPP_ACCESS_TOKEN: "token",
      REDIS_URL: "redis://127.0.0.1:6379",
      DATABASE_URL: "postgres://fv@127.0.0.1/fv",
    });
    expect(carrier.sip.trace).toBe("redacted");
    expect(carrier.voice?.callerId).toBe("+442079460001");
    expect(carrier.inbound).toMatchObject({
      listener: { address: "0.0.0.0", port: 5060 },
      trustedSources: ["sbc.example.net"],
    });
    expect(carrier.email).toMatchObject({
      relay: { host: "smtp.example.net", port: 587 },
      auth: { user: "fv", pass: "" },
    });
    expect(carrier.whatsapp?.account).toEqual({ phoneNumberId: "123", accessToken: "token", baseUrl: undefined });
    expect(carrier.scale).toMatchObject({ singleServer: false, redis: { prefix: "flashverify" }, limiter: "redis" });
    // A TLS port without its files stops the start, whether or not the channel is on.
    expect(() =>
      loadConfig({ SANDBOX: "off", SIP_TRUNK_HOST: "sbc.example.net", INBOUND_SIP_TLS_PORT: "5061" }),
    ).toThrow(
      /INBOUND_TLS_CERT_FILE: is required when INBOUND_SIP_TLS_PORT is set\n {2}INBOUND_TLS_KEY_FILE: is required/,
    );
    expect(
      loadConfig({ INBOUND_SIP_TLS_PORT: "5061", INBOUND_TLS_CERT_FILE: "c.pem", INBOUND_TLS_KEY_FILE: "k.pem" })
        .inbound,
    ).toMatchObject({ listener: { tls: { port: 5061, certFile: "c.pem", keyFile: "k.pem" } } });
  });

  it("parses the carrier's trunks: the shorthand as one trunk, none with the sandbox (its handsets are)", () => {
    expect(loadConfig({}).trunks).toBeNull();
    const [trunk, ...more] =
      loadConfig({ SANDBOX: "off", SIP_TRUNK_HOST: "sbc.example.net", SIP_DOMAIN: "example.net" }).trunks ?? [];
    expect(more).toEqual([]);
    expect(trunk).toMatchObject({ id: "default", host: "sbc.example.net", port: 5060, domain: "example.net" });
  });

  it("reads a JSON config file, with the environment taking precedence", async () => {
    const { writeFileSync, mkdtempSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const file = join(mkdtempSync(join(tmpdir(), "fv-config-")), "config.json");
    writeFileSync(file, JSON.stringify({ PORT: 9000, POOL_NUMBERS: "+4420794xxxxx, +441632960xxxx" }));
    const config = loadConfig({ FLASHVERIFY_CONFIG: file, PORT: "9001" });
    expect(config.PORT).toBe(9001);
    expect(config.POOL_NUMBERS).toEqual(["+4420794xxxxx", "+441632960xxxx"]);
    expect(() => loadConfig({ FLASHVERIFY_CONFIG: join(file, "missing") })).toThrow(/FLASHVERIFY_CONFIG/);
  });

  describe("carrier trunks", () => {
    const trunk = { id: "carrier-a", host: "sbc.carrier-a.example" };

    it("reads SIP_TRUNKS and SIP_ROUTES as JSON, with defaults for every trunk option", () => {
      const config = loadConfig({
        SANDBOX: "off",
        SIP_TRUNKS: JSON.stringify([trunk, { id: "carrier-b", host: "10.0.0.7", port: 5080, transport: "tcp" }]),
        SIP_ROUTES: JSON.stringify([
          { prefixes: ["+44"], trunks: [{ id: "carrier-b" }, { id: "carrier-a", priority: 2 }] },
        ]),
      });
      expect(config.SIP_TRUNKS?.[0]).toMatchObject({
        id: "carrier-a",
        transport: "udp",
        cli_format: "e164",
        p_asserted_identity: true,
        headers: {},
        queue_size: 1000,
        queue_timeout_ms: 2000,
        breaker_failures: 5,
      });
      expect(config.SIP_ROUTES[0]?.trunks).toEqual([
        { id: "carrier-b", priority: 1, weight: 1 },
        { id: "carrier-a", priority: 2, weight: 1 },
      ]);
    });

    it("names the field that is wrong, down to the trunk and its option", () => {
      const bad =
        (trunks: unknown[], routes: unknown[] = []) =>
        () =>
          loadConfig({ SANDBOX: "off", SIP_TRUNKS: JSON.stringify(trunks), SIP_ROUTES: JSON.stringify(routes) });
      expect(bad([trunk, { ...trunk, id: "b", cli_format: "intl" }])).toThrow(/SIP_TRUNKS\.1\.cli_format/);
      expect(bad([{ ...trunk, stir_shaken: { key_file: "k.pem", x5u: "ftp://x", attest: "A" } }])).toThrow(
        /SIP_TRUNKS\.0\.stir_shaken\.x5u: must be an http\(s\) URL/,
      );
      expect(bad([{ ...trunk, stir_shaken: { key_file: "k.pem", x5u: "https://x/c.pem", attest: "D" } }])).toThrow(
        /SIP_TRUNKS\.0\.stir_shaken\.attest/,
      );
      expect(bad([{ ...trunk, headers: { "X-Ok": "a", Via: "SIP/2.0/UDP evil" } }])).toThrow(/SIP_TRUNKS\.0\.headers/);
      expect(bad([{ ...trunk, headers: { "X-Two": "a\r\nVia: x" } }])).toThrow(
        /SIP_TRUNKS\.0\.headers\.X-Two: must be one line/,
      );
      expect(bad([{ ...trunk, tls: {} }])).toThrow(/SIP_TRUNKS\.0\.tls: is only used with transport "tls"/);
      expect(bad([{ ...trunk, hots: "typo" }])).toThrow(/SIP_TRUNKS\.0/);
      expect(bad([trunk, trunk])).toThrow(/SIP_TRUNKS\.1\.id: "carrier-a" is used by another trunk/);
      expect(bad([trunk], [{ trunks: [{ id: "nope" }] }])).toThrow(/SIP_ROUTES\.0\.trunks\.0\.id: no trunk "nope"/);
      expect(() => loadConfig({ SIP_TRUNKS: "[{" })).toThrow(/SIP_TRUNKS/);
    });

    it("takes trunks as arrays from the JSON config file", async () => {
      const { writeFileSync, mkdtempSync } = await import("node:fs");
      const { join } = await import("node:path");
      const { tmpdir } = await import("node:os");
      const file = join(mkdtempSync(join(tmpdir(), "fv-config-")), "config.json");
      writeFileSync(file, JSON.stringify({ SANDBOX: "off", SIP_TRUNKS: [{ ...trunk, max_cps: 50 }] }));
      expect(loadConfig({ FLASHVERIFY_CONFIG: file }).SIP_TRUNKS?.[0]).toMatchObject({ id: "carrier-a", max_cps: 50 });
    });

    it("accepts SIP_TRUNKS instead of SIP_TRUNK_HOST when the sandbox is off", () => {
      expect(loadConfig({ SANDBOX: "off", SIP_TRUNKS: JSON.stringify([trunk]) }).SIP_TRUNK_HOST).toBeUndefined();
    });
  });
});
