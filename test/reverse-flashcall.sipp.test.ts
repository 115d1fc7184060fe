/**
 * Interop: the reverse flash call's inbound listener called by an independent UAC, SIPp, as a carrier trunk would
 * deliver the user's call: the caller's phone in P-Asserted-Identity and From, the inbound number in the
 * Request-URI. Every call is rejected before answer (603 here, 403 from an address that is no trunk, 438 for an
 * Identity that does not verify); what the call proved shows on the verification. STIR/SHAKEN Identity headers are
 * signed by Debian's secsipidx (the reference implementation Kamailio uses) with a key and certificate made by
 * openssl, the certificate served at the x5u URL. Over UDP and TCP.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectScenarioPassed, startSipp } from "./sipp/sipp.js";
import { commandExists, peerAvailable } from "./support/peers.js";
import { auth, createTestApp, type TestApp } from "./support/test-app.js";

const sipp = peerAvailable("sipp", () => commandExists("sipp"));
const signing =
  sipp &&
  peerAvailable("secsipidx", () => commandExists("secsipidx")) &&
  peerAvailable("openssl", () => commandExists("openssl"));

/** The listener, the trunk (SIPp), an address that is no trunk, the certificate server, the second listener. */
const LISTENER = "127.0.18.1";
const TRUNK = "127.0.18.2";
const STRANGER = "127.0.18.3";
const CERTS = "127.0.18.4";
const SIGNED_LISTENER = "127.0.18.11";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read field by field and asserted, not trusted
type Json = Record<string, any>;

async function start(t: TestApp, phone: string): Promise<Json> {
  const payload = { phone, workflow: [{ channel: "reverse_flashcall" }] };
  const res = await t.app.inject({ method: "POST", url: "/v1/verifications", headers: auth(), payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

const read = async (t: TestApp, id: string): Promise<Json> =>
  (await t.app.inject({ method: "GET", url: `/v1/verifications/${id}`, headers: auth() })).json();

/** One call from SIPp at `from` to the listener, which must answer `expect`. */
async function call(
  t: TestApp,
  p: {
    from: string;
    caller: string;
    dialled: string;
    expect: 603 | 403 | 438;
    transport: "udp" | "tcp";
    identity?: string;
  },
) {
  const local = t.services.messageChannels.reverse_flashcall as unknown as { local: { address: string; port: number } };
  const run = await startSipp({
    scenario: `uac-reverse-expect-${p.expect}.xml`,
    address: p.from,
    remote: `${local.local.address}:${local.local.port}`,
    transport: p.transport,
    extraArgs: [
      ...["-key", "caller", p.caller, "-key", "dialled", p.dialled],
      ...["-key", "identity", p.identity ? `Identity: ${p.identity}` : "X-Identity: none"],
    ],
  });
  const result = await run.result;
  expectScenarioPassed(result);
  return result;
}

const metric = async (t: TestApp, outcome: string): Promise<number> => {
  const text = (await t.app.inject({ method: "GET", url: "/metrics" })).body;
  const line = text.split("\n").find((l) => l.startsWith(`flashverify_inbound_calls_total{outcome="${outcome}"}`));
  return line ? Number(line.split(" ").at(-1)) : 0;
};

describe.skipIf(!sipp).each(["udp", "tcp"] as const)("reverse flash call over %s, SIPp as the trunk", (transport) => {
  let t: TestApp;
  const base = transport === "udp" ? 100 : 200;
  beforeAll(async () => {
    t = await createTestApp({
      INBOUND_NUMBERS: "+44207946098x",
      INBOUND_MODE: "leased",
      INBOUND_SIP_ADDRESS: LISTENER,
      INBOUND_TRUSTED_SOURCES: TRUNK,
    });
  });
  afterAll(() => t?.close());

  it("verifies when the caller is the verification's phone, rejecting the call before answer (603)", async () => {
    const phone = `+447400123${base + 1}`;
    const started = await start(t, phone);
    expect(started.reverse_flashcall).toEqual({
      dial: expect.stringMatching(/^\+44207946098\d$/),
      expires_at: expect.any(String),
    });
    expect(started.verification.attempts[0]).toMatchObject({ channel: "reverse_flashcall", status: "sent" });
    const run = await call(t, {
      from: TRUNK,
      caller: phone,
      dialled: started.reverse_flashcall.dial,
      expect: 603,
      transport,
    });
    expect(run.messages.filter((m) => m.direction === "received").map((m) => m.startLine)).toEqual([
      "SIP/2.0 603 Decline",
    ]);
    const v = await read(t, started.id);
    expect(v).toMatchObject({ status: "verified", channel: "reverse_flashcall", verified_caller_id: phone });
    expect(v.attempts[0]).toMatchObject({ status: "delivered", reason: "delivered", sip_code: 603 });
    expect(v.reverse_flashcall).toBeNull();
  });

  it("reads the caller in any format: national in From and P-Asserted-Identity", async () => {
    const phone = `+447400123${base + 2}`;
    const started = await start(t, phone);
    await call(t, {
      from: TRUNK,
      caller: `0${phone.slice(3)}`,
      dialled: started.reverse_flashcall.dial,
      expect: 603,
      transport,
    });
    expect(await read(t, started.id)).toMatchObject({ status: "verified", verified_caller_id: phone });
  });

  it("does not verify another caller, and on a leased number counts it as a failed check", async () => {
    const phone = `+447400123${base + 3}`;
    const started = await start(t, phone);
    const before = (await read(t, started.id)).attempts_remaining;
    const wrong = `+447400999${base + 3}`;
    await call(t, { from: TRUNK, caller: wrong, dialled: started.reverse_flashcall.dial, expect: 603, transport });
    const v = await read(t, started.id);
    expect(v).toMatchObject({ status: "pending", verified_caller_id: null, attempts_remaining: before - 1 });
    expect(await metric(t, "wrong_caller")).toBeGreaterThan(0);
  });

  it("refuses an INVITE from an address that is not a trunk with 403, and counts it", async () => {
    const phone = `+447400123${base + 4}`;
    const started = await start(t, phone);
    const refusedBefore = await metric(t, "untrusted_source");
    await call(t, { from: STRANGER, caller: phone, dialled: started.reverse_flashcall.dial, expect: 403, transport });
    expect(await read(t, started.id)).toMatchObject({ status: "pending", attempts_remaining: 5 });
    expect(await metric(t, "untrusted_source")).toBe(refusedBefore + 1);
  });

  it("answers a check of a reverse flash call with NO_CODE_TO_CHECK, counting nothing", async () => {
    const started = await start(t, `+447400123${base + 5}`);
    const res = await t.app.inject({
      method: "POST",
      url: `/v1/verifications/${started.id}/check`,
      headers: auth(),
      payload: { code: "123456" },
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe("NO_CODE_TO_CHECK");
    expect((await read(t, started.id)).attempts_remaining).toBe(5);
  });
});

describe.skipIf(!signing).each(["udp", "tcp"] as const)("STIR/SHAKEN attestation A required, over %s", (transport) => {
  let t: TestApp;
  let dir: string;
  let certServer: Server;
  let x5u: string;
  const base = transport === "udp" ? 300 : 400;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "flashverify-reverse-"));
    execFileSync("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", join(dir, "key.pem")]);
    execFileSync("openssl", [
      ...["req", "-new", "-x509", "-key", join(dir, "key.pem"), "-out", join(dir, "cert.pem")],
      ...["-days", "2", "-subj", "/CN=flashverify test carrier"],
    ]);
    const cert = readFileSync(join(dir, "cert.pem"));
    certServer = createServer((_req, res) =>
      res.writeHead(200, { "content-type": "application/x-pem-file" }).end(cert),
    );
    await new Promise<void>((resolve) => certServer.listen(0, CERTS, resolve));
    x5u = `http://${CERTS}:${(certServer.address() as { port: number }).port}/carrier.pem`;
    t = await createTestApp({
      INBOUND_NUMBERS: "+442079460977",
      INBOUND_SIP_ADDRESS: SIGNED_LISTENER,
      INBOUND_TRUSTED_SOURCES: TRUNK,
      INBOUND_ATTESTATION: "A",
      INBOUND_SHAKEN_TRUST_FILE: join(dir, "cert.pem"),
      // The certificate is served on loopback, which the x5u fetch's SSRF guard refuses unless allowed.
      WEBHOOK_ALLOW_PRIVATE: "loopback",
    });
  });
  afterAll(async () => {
    await t?.close();
    await new Promise((resolve) => certServer?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  /** secsipidx signs the Identity header a carrier would add for a call from `orig` to `dest`. */
  const signWithKey = (orig: string, dest: string, attest: "A" | "B") =>
    execFileSync(
      "secsipidx",
      [
        ...["-sign-full", "-orig-tn", orig.slice(1), "-dest-tn", dest.slice(1), "-attest", attest],
        ...["-x5u", x5u, "-k", join(dir, "key.pem")],
      ],
      { encoding: "utf8" },
    ).trim();

  it("verifies with a valid secsipidx-signed Identity of attestation A", async () => {
    const phone = `+447400123${base + 1}`;
    const started = await start(t, phone);
    const dial = started.reverse_flashcall.dial;
    await call(t, {
      from: TRUNK,
      caller: phone,
      dialled: dial,
      expect: 603,
      transport,
      identity: signWithKey(phone, dial, "A"),
    });
    expect(await read(t, started.id)).toMatchObject({ status: "verified", verified_caller_id: phone });
  });

  it("refuses a tampered Identity with 438 and does not verify", async () => {
    const phone = `+447400123${base + 2}`;
    const started = await start(t, phone);
    const dial = started.reverse_flashcall.dial;
    const identity = signWithKey(phone, dial, "A");
    const [jws, ...params] = identity.split(";");
    const [header, payload, signature] = (jws as string).split(".") as [string, string, string];
    const bytes = Buffer.from(signature, "base64url");
    bytes[10] = (bytes[10] as number) ^ 0xff;
    const tampered = [`${header}.${payload}.${bytes.toString("base64url")}`, ...params].join(";");
    const before = await metric(t, "invalid_identity");
    await call(t, { from: TRUNK, caller: phone, dialled: dial, expect: 438, transport, identity: tampered });
    expect(await read(t, started.id)).toMatchObject({ status: "pending", verified_caller_id: null });
    expect(await metric(t, "invalid_identity")).toBe(before + 1);
  });

  it("does not verify a call signed for another caller, nor an unsigned or B-attested one when A is required", async () => {
    const phone = `+447400123${base + 3}`;
    const started = await start(t, phone);
    const dial = started.reverse_flashcall.dial;
    const forOther = signWithKey(`+447400999${base + 3}`, dial, "A");
    await call(t, { from: TRUNK, caller: phone, dialled: dial, expect: 438, transport, identity: forOther });
    await call(t, { from: TRUNK, caller: phone, dialled: dial, expect: 603, transport });
    await call(t, {
      from: TRUNK,
      caller: phone,
      dialled: dial,
      expect: 603,
      transport,
      identity: signWithKey(phone, dial, "B"),
    });
    expect(await read(t, started.id)).toMatchObject({ status: "pending", verified_caller_id: null });
    expect(await metric(t, "attestation_required")).toBeGreaterThanOrEqual(2);
  });
});
