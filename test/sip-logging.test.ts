/**
 * What a server process logs about SIP, read from its real log: the trunks at startup, each flash call's outcome at
 * `LOG_LEVEL=debug` (trunk, final code, reason, timings), and with `SIP_TRACE=on` every message of the call, made in
 * the SIP thread, with the digest answer, the STIR/SHAKEN token and the caller ID taken out. The trunk is SIPp
 * playing a carrier edge that challenges for digest credentials and checks them (`verifyauth`), then rings.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { expectScenarioPassed, headerValues, startSipp } from "./sipp/sipp.js";
import { commandExists, peerAvailable } from "./support/peers.js";
import { spawnServer } from "./support/server-process.js";
import { eventually, TEST_FRAUD_SETTINGS } from "./support/test-app.js";

const available = peerAvailable("sipp", () => commandExists("sipp"));
const dir = mkdtempSync(join(tmpdir(), "flashverify-sip-log-"));
const KEY = "fv_sip_logging_key_0123456789";
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

// biome-ignore lint/suspicious/noExplicitAny: log lines are read field by field and asserted
type Json = Record<string, any>;

/** A STIR/SHAKEN key for the trunk, so the INVITE carries an Identity header for the trace to redact. */
async function shakenKey(): Promise<string> {
  const { generateKeyPairSync } = await import("node:crypto");
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const file = join(dir, "shaken-key.pem");
  writeFileSync(file, privateKey.export({ type: "pkcs8", format: "pem" }));
  return file;
}

describe.skipIf(!available)("SIP logging of a server process", () => {
  it("lists the trunks, logs each call's outcome at debug, and traces its messages redacted", async () => {
    const sipp = await startSipp({ scenario: "uas-digest.xml", address: "127.0.0.126", timeoutSeconds: 30 });
    const trunk = {
      id: "carrier-a",
      host: sipp.address,
      port: sipp.port,
      auth: { username: "flash", password: "s3cret", realm: "carrier.example" },
      stir_shaken: { key_file: await shakenKey(), x5u: "https://certs.acme.example/shaken.pem", attest: "A" },
    };
    const server = await spawnServer({
      ...TEST_FRAUD_SETTINGS,
      DATABASE_URL: `sqlite:${join(dir, "flashverify.db")}`,
      FLASHVERIFY_API_KEY: KEY,
      FLASHVERIFY_SECRET: "sip-logging-secret-sip-logging-secret",
      SANDBOX: "off",
      POOL_NUMBERS: "+4420794xxxxx",
      SIP_TRUNKS: JSON.stringify([trunk]),
      SIP_LOCAL_ADDRESS: "127.0.0.125",
      SIP_RING_TIME_MS: "100",
      LOG_LEVEL: "debug",
      SIP_TRACE: "on",
    });
    children.push(server.child);
    const log = () => server.lines.flatMap((line) => (line.startsWith("{") ? [JSON.parse(line) as Json] : []));

    const serving = log().find((e) => e.msg === "flashverify is serving");
    expect(serving?.trunks).toEqual([{ id: "carrier-a", target: `sip:127.0.0.126:${sipp.port}`, transport: "udp" }]);
    expect(serving?.sip_trace).toBe("on");

    const res = await fetch(new URL("/v1/verifications", server.url), {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ phone: "+447400123456" }),
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as Json;
    const ended = await eventually(() => log().find((e) => e.call?.attempt_id !== undefined), 15_000);
    const run = await sipp.result;
    expectScenarioPassed(run);

    // The outcome of the call, at debug: the trunk, the final code, why, and how long each part took.
    expect(ended.level).toBe(20);
    expect(ended.msg).toBe("flash call ringing_canceled");
    expect(ended.call).toMatchObject({
      trunk: "carrier-a",
      sip_code: 487,
      reason: "ringing_canceled",
      failed_over: [],
    });
    expect(ended.call.post_dial_delay_ms).toBeGreaterThanOrEqual(0);
    expect(ended.call.ring_ms).toBeGreaterThanOrEqual(90);
    expect(ended.call.duration_ms).toBeGreaterThanOrEqual(ended.call.ring_ms);
    const verification = (await (
      await fetch(new URL(`/v1/verifications/${id}`, server.url), { headers: { authorization: `Bearer ${KEY}` } })
    ).json()) as Json;
    expect(ended.call.attempt_id).toBe(verification.attempts[0].id);

    // The trace: every message SIPp saw, in both directions, in order, from the trunk's thread.
    const trace = await eventually(() => {
      const lines = log().filter((e) => e.sip !== undefined);
      return lines.some((e) => e.msg === "SIP in SIP/2.0 487 Request Terminated") ? lines : undefined;
    });
    expect(trace.every((e) => e.trunk === "carrier-a" && e.level === 30)).toBe(true);
    const firstLines = trace.map((e) => e.msg);
    expect(firstLines.filter((m) => m.startsWith("SIP out INVITE "))).toHaveLength(2);
    expect(firstLines).toContain("SIP in SIP/2.0 401 Unauthorized");
    expect(firstLines).toContain("SIP in SIP/2.0 180 Ringing");
    expect(firstLines.some((m) => m.startsWith("SIP out CANCEL "))).toBe(true);
    expect(firstLines.filter((m) => m.startsWith("SIP out ACK "))).toHaveLength(2);

    // What SIPp received carries the secrets and the caller ID; the log carries none of them.
    const invites = run.messages.filter((m) => m.direction === "received" && m.startLine.startsWith("INVITE "));
    const authorization = headerValues(invites[1]!, "Authorization")[0] as string;
    const identity = headerValues(invites[0]!, "Identity")[0] as string;
    const cli = (headerValues(invites[0]!, "From")[0] as string).match(/sip:(\+\d+)@/)?.[1] as string;
    const response = authorization.match(/response="(\w+)"/)?.[1] as string;
    expect(response).toMatch(/^[0-9a-f]{32}$/);
    const everything = server.lines.join("\n");
    for (const secret of [response, identity.split(";")[0] as string, cli]) expect(everything).not.toContain(secret);
    const callerLines = trace
      .flatMap((e) => (e.sip.text as string).split("\r\n"))
      .filter((line) => /^(From|P-Asserted-Identity):/i.test(line));
    expect(callerLines.length).toBeGreaterThanOrEqual(6);
    for (const line of callerLines) expect(line).not.toContain(cli.slice(-6));
    const tracedInvite = trace.filter((e) => e.msg.startsWith("SIP out INVITE "))[1]?.sip.text as string;
    expect(tracedInvite).toContain("Authorization: Digest <redacted>");
    expect(tracedInvite).toMatch(/Identity: <redacted>;info=<https:\/\/certs\.acme\.example\/shaken\.pem>/);
    expect(tracedInvite).toContain(`From: <sip:${cli.slice(0, -6)}******@127.0.0.126>`);
    expect(tracedInvite).toContain("INVITE sip:+447400123456@127.0.0.126 SIP/2.0");

    server.child.kill("SIGTERM");
    await server.exited;
  }, 60_000);
});
