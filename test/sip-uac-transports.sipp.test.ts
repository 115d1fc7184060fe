/**
 * Interop over reliable transports: our UAC over TCP against SIPp (`-t t1`), and over TLS against SIPp behind a
 * TLS terminator (Debian's SIPp is built without TLS; the terminator only decrypts and relays bytes, so every SIP
 * message still comes from SIPp). DNS SRV and A resolution go through a small DNS server speaking the real wire
 * protocol (test/support/dns-server.ts).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server } from "node:tls";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MIN_REFRESH_SECONDS } from "../src/sip/dns.js";
import type { FlashCaller, SipUacOptions } from "../src/sip/types.js";
import { SipUac } from "../src/sip/uac.js";
import { startSipUacWorker } from "../src/sip/uac-worker.js";
import { expectScenarioPassed, headerValues, type SippMessage, type SippResult, startSipp } from "./sipp/sipp.js";
import { type DnsRecord, DnsServer } from "./support/dns-server.js";
import { commandExists, peerAvailable } from "./support/peers.js";

const available = peerAvailable("sipp", () => commandExists("sipp"));
const SIPP_ADDRESS = "127.0.0.25";
const CALL = { to: "+447400123456", cli: "+442079412345", ringTimeMs: 100, maxDialMs: 5000 };

const received = (run: SippResult, method: string): SippMessage[] =>
  run.messages.filter((m) => m.direction === "received" && m.startLine.startsWith(`${method} `));

let caller: FlashCaller | undefined;
afterEach(async () => {
  await caller?.close();
  caller = undefined;
});

describe.skipIf(!available).each([
  ["SipUac", (options: SipUacOptions): Promise<FlashCaller> => SipUac.create(options)],
  ["the SIP worker thread", (options: SipUacOptions): Promise<FlashCaller> => startSipUacWorker(options)],
])("%s over TCP against SIPp -t t1", (_name, start) => {
  it("rings and cancels on one connection: Via TCP, ;transport=tcp URIs", async () => {
    const sipp = await startSipp({ scenario: "uas-ring-cancel.xml", address: SIPP_ADDRESS, transport: "tcp" });
    caller = await start({ target: { host: sipp.address, port: sipp.port }, transport: "tcp" });
    const record = await caller.placeCall(CALL).done;
    const run = await sipp.result;
    expectScenarioPassed(run);
    expect(record).toMatchObject({ reason: "ringing_canceled", finalCode: 487 });
    const [invite] = received(run, "INVITE");
    expect(invite?.startLine).toBe(`INVITE sip:${CALL.to}@${SIPP_ADDRESS};transport=tcp SIP/2.0`);
    expect(headerValues(invite!, "Via")[0]).toMatch(/^SIP\/2\.0\/TCP 127\.0\.0\.1:\d+;branch=z9hG4bK/);
    expect(headerValues(invite!, "Contact")[0]).toMatch(/^<sip:127\.0\.0\.1:\d+;transport=tcp>$/);
    expect(headerValues(received(run, "CANCEL")[0]!, "Via")).toEqual(headerValues(invite!, "Via"));
  });

  it("does not retransmit over TCP (no Timer A), and still times out on Timer B", async () => {
    const sipp = await startSipp({ scenario: "uas-silent.xml", address: SIPP_ADDRESS, transport: "tcp" });
    caller = await start({
      target: { host: sipp.address, port: sipp.port },
      transport: "tcp",
      t1Ms: 50,
      timerBMs: 600,
    });
    const record = await caller.placeCall(CALL).done;
    const run = await sipp.result;
    expectScenarioPassed(run);
    expect(record).toMatchObject({ reason: "timeout", finalCode: null });
    expect(record.endedAt - record.startedAt).toBeGreaterThanOrEqual(590);
    expect(received(run, "INVITE")).toHaveLength(1);
  });

  it("answers SIPp's digest challenge over TCP", async () => {
    const sipp = await startSipp({ scenario: "uas-digest.xml", address: SIPP_ADDRESS, transport: "tcp" });
    caller = await start({
      target: { host: sipp.address, port: sipp.port },
      transport: "tcp",
      credentials: { username: "flash", password: "s3cret" },
    });
    const record = await caller.placeCall(CALL).done;
    const run = await sipp.result;
    expectScenarioPassed(run);
    expect(record).toMatchObject({ reason: "ringing_canceled", finalCode: 487 });
    expect(received(run, "INVITE")).toHaveLength(2);
  });
});

const openssl = peerAvailable("openssl", () => commandExists("openssl"));

describe.skipIf(!available || !openssl)("SipUac over TLS to SIPp behind a TLS terminator", () => {
  const TLS_ADDRESS = "127.0.0.27";
  let dir: string;
  let cert: string;
  let terminator: Server;
  let upstreamPort = 0;
  const upstream = new Set<Socket>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "flashverify-tls-"));
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
        "-days",
        "1",
        "-subj",
        "/CN=sip.test",
        "-addext",
        "subjectAltName=DNS:sip.test",
      ],
      { stdio: "ignore" },
    );
    cert = readFileSync(join(dir, "cert.pem"), "utf8");
    terminator = createServer({ key: readFileSync(join(dir, "key.pem")), cert }, (clear) => {
      const plain = connect(upstreamPort, SIPP_ADDRESS);
      upstream.add(plain);
      clear.pipe(plain).pipe(clear);
      clear.on("error", () => plain.destroy());
      plain.on("error", () => clear.destroy());
      plain.on("close", () => upstream.delete(plain));
    });
    await new Promise<void>((resolve) => terminator.listen(0, TLS_ADDRESS, resolve));
  });

  afterAll(async () => {
    for (const s of upstream) s.destroy();
    await new Promise((resolve) => terminator.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const target = () => ({ host: TLS_ADDRESS, port: (terminator.address() as { port: number }).port });

  it("rings and cancels over TLS, verifying the server's certificate: sips: URIs, Via TLS", async () => {
    const sipp = await startSipp({ scenario: "uas-ring-cancel.xml", address: SIPP_ADDRESS, transport: "tcp" });
    upstreamPort = sipp.port;
    caller = await SipUac.create({
      target: target(),
      domain: "sip.test",
      transport: "tls",
      tls: { ca: cert, servername: "sip.test" },
    });
    const record = await caller.placeCall(CALL).done;
    const run = await sipp.result;
    expectScenarioPassed(run);
    expect(record).toMatchObject({ reason: "ringing_canceled", finalCode: 487 });
    const [invite] = received(run, "INVITE");
    expect(invite?.startLine).toBe(`INVITE sips:${CALL.to}@sip.test SIP/2.0`);
    expect(headerValues(invite!, "Via")[0]).toMatch(/^SIP\/2\.0\/TLS 127\.0\.0\.1:\d+;branch=/);
    expect(headerValues(invite!, "From")[0]).toMatch(/^<sips:\+442079412345@sip\.test>;tag=/);
    expect(headerValues(invite!, "Contact")[0]).toMatch(/^<sips:127\.0\.0\.1:\d+>$/);
  });

  it("refuses a server whose certificate it cannot verify: the call ends network_error", async () => {
    caller = await SipUac.create({ target: target(), transport: "tls", tls: { servername: "sip.test" } });
    expect(await caller.placeCall(CALL).done).toMatchObject({ reason: "network_error", finalCode: null });
  });
});

describe.skipIf(!available)("DNS: SRV, then A, resolved at start only", () => {
  let dns: DnsServer | undefined;
  afterEach(async () => {
    await dns?.close();
    dns = undefined;
  });

  it("follows _sip._tcp SRV in priority order to the A records, then tries the next target after a failure", async () => {
    const sipp = await startSipp({
      scenario: "uas-ring-cancel.xml",
      address: SIPP_ADDRESS,
      transport: "tcp",
      calls: 2,
    });
    const deadPort = await closedTcpPort();
    dns = await DnsServer.start("127.0.0.24", {
      "_sip._tcp.trunk.test": [
        { type: "SRV", priority: 20, weight: 0, port: sipp.port, target: "b.trunk.test", ttl: 300 },
        { type: "SRV", priority: 10, weight: 5, port: deadPort, target: "a.trunk.test", ttl: 300 },
      ],
      "a.trunk.test": [{ type: "A", address: "127.0.0.26", ttl: 300 }],
      "b.trunk.test": [{ type: "A", address: SIPP_ADDRESS, ttl: 300 }],
    });
    caller = await SipUac.create({ target: { host: "trunk.test" }, transport: "tcp", dnsServers: [dns.server] });
    expect(dns.questions).toEqual(["SRV _sip._tcp.trunk.test", "A a.trunk.test", "A b.trunk.test"]);
    // The first target (priority 10) refused the connection at start; after the backoff the next one is used.
    await new Promise((resolve) => setTimeout(resolve, 150));
    const records = [await caller.placeCall(CALL).done, await caller.placeCall(CALL).done];
    const run = await sipp.result;
    expect(run.exitCode).toBe(0);
    expect(records.map((r) => r.reason)).toEqual(["ringing_canceled", "ringing_canceled"]);
    expect(received(run, "INVITE")[0]?.startLine).toBe(`INVITE sip:${CALL.to}@trunk.test;transport=tcp SIP/2.0`);
    expect(dns.questions).toHaveLength(3); // none per call
  });

  it("resolves again when the TTL runs out (not per call) and moves to the new address", async () => {
    const first = await startSipp({ scenario: "uas-busy.xml", address: SIPP_ADDRESS });
    const second = await startSipp({ scenario: "uas-not-found.xml", address: "127.0.0.29" });
    const records: Record<string, DnsRecord[]> = {
      "_sip._udp.trunk.test": [
        { type: "SRV", priority: 10, weight: 1, port: first.port, target: "a.trunk.test", ttl: 1 },
      ],
      "a.trunk.test": [{ type: "A", address: SIPP_ADDRESS, ttl: 1 }],
      "b.trunk.test": [{ type: "A", address: "127.0.0.29", ttl: 1 }],
    };
    dns = await DnsServer.start("127.0.0.24", records);
    caller = await SipUac.create({ target: { host: "trunk.test" }, dnsServers: [dns.server] });
    expect(await caller.placeCall(CALL).done).toMatchObject({ reason: "busy" });
    expectScenarioPassed(await first.result);
    expect(dns.questions).toHaveLength(2);
    records["_sip._udp.trunk.test"] = [
      { type: "SRV", priority: 10, weight: 1, port: second.port, target: "b.trunk.test", ttl: 1 },
    ];
    // A 1 s TTL is raised to the 5 s floor: the next lookup comes then.
    const deadline = Date.now() + MIN_REFRESH_SECONDS * 1000 + 3000;
    while (dns.questions.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(dns.questions.slice(2)).toEqual(["SRV _sip._udp.trunk.test", "A b.trunk.test"]);
    await new Promise((r) => setTimeout(r, 100));
    expect(await caller.placeCall(CALL).done).toMatchObject({ reason: "not_found" });
    expectScenarioPassed(await second.result);
  }, 20_000);

  it("with a port, asks for the A record only (UDP)", async () => {
    const sipp = await startSipp({ scenario: "uas-busy.xml", address: SIPP_ADDRESS });
    dns = await DnsServer.start("127.0.0.24", { "trunk.test": [{ type: "A", address: SIPP_ADDRESS, ttl: 60 }] });
    caller = await SipUac.create({ target: { host: "trunk.test", port: sipp.port }, dnsServers: [dns.server] });
    expect(await caller.placeCall(CALL).done).toMatchObject({ reason: "busy", finalCode: 486 });
    expectScenarioPassed(await sipp.result);
    expect(dns.questions).toEqual(["A trunk.test"]);
  });

  it("without SRV records, falls back to the name's A record on port 5060; an unknown name fails start-up", async () => {
    dns = await DnsServer.start("127.0.0.24", { "trunk.test": [{ type: "A", address: "127.0.0.26", ttl: 60 }] });
    const uac = await SipUac.create({ target: { host: "trunk.test" }, dnsServers: [dns.server] });
    await uac.close();
    expect(dns.questions).toEqual(["SRV _sip._udp.trunk.test", "A trunk.test"]);
    await expect(SipUac.create({ target: { host: "nowhere.test" }, dnsServers: [dns.server] })).rejects.toThrow();
  });
});

/** A TCP port on 127.0.0.26 with nobody listening. */
async function closedTcpPort(): Promise<number> {
  const { freeTcpPort } = await import("./sipp/sipp-tools.js");
  return freeTcpPort("127.0.0.26");
}
