/**
 * The reverse flash call's per-caller limit holds before any work for the call: a call over it costs no
 * certificate fetch. An Identity header names its own x5u, so without this a trunk's flood of calls from one caller,
 * each naming another URL, would have the server fetch one URL per call (and hold each INVITE while it does).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createShakenSigner } from "../src/sip/stir-shaken.js";
import { RawPeer } from "./sipp/raw-peer.js";
import { commandExists, peerAvailable } from "./support/peers.js";
import { createTestApp, type TestApp } from "./support/test-app.js";

const LISTENER = "127.0.26.50";
const CERTS = "127.0.26.51";
const TRUNK = "127.0.26.52";
const DIAL = "+442079460955";
const CALLER = "+447400126301";
const openssl = peerAvailable("openssl", () => commandExists("openssl"));

describe.skipIf(!openssl)("reverse flash call limits before the Identity's certificate", () => {
  let dir: string;
  let t: TestApp;
  let trunk: RawPeer;
  let server: Server;
  let base: string;
  let key: string;
  const fetched: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "flashverify-audit-limits-"));
    execFileSync("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", join(dir, "key.pem")]);
    execFileSync("openssl", [
      ...["req", "-new", "-x509", "-key", join(dir, "key.pem"), "-out", join(dir, "cert.pem")],
      ...["-days", "2", "-subj", "/CN=flashverify audit carrier"],
    ]);
    key = readFileSync(join(dir, "key.pem"), "utf8");
    const cert = readFileSync(join(dir, "cert.pem"));
    server = createServer((req, res) => {
      fetched.push(req.url ?? "");
      res.writeHead(200, { "content-type": "application/x-pem-file" }).end(cert);
    });
    await new Promise<void>((resolve) => server.listen(0, CERTS, resolve));
    base = `http://${CERTS}:${(server.address() as { port: number }).port}`;
    t = await createTestApp({
      INBOUND_NUMBERS: DIAL,
      INBOUND_SIP_ADDRESS: LISTENER,
      INBOUND_TRUSTED_SOURCES: TRUNK,
      INBOUND_SHAKEN_TRUST_FILE: join(dir, "cert.pem"),
      INBOUND_LIMITS: "caller=2/10m",
      WEBHOOK_ALLOW_PRIVATE: "loopback",
      SANDBOX_SIP_ADDRESS: "127.0.26.53",
      SIP_LOCAL_ADDRESS: "127.0.26.53",
    });
    trunk = await RawPeer.create(TRUNK);
  });
  afterAll(async () => {
    await t?.close();
    await trunk?.close();
    await new Promise((resolve) => server?.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  /** One call from CALLER with an Identity whose x5u is `path` on the certificate server; resolves its status. */
  async function call(i: number, path: string): Promise<number> {
    const identity = await createShakenSigner({ privateKeyPem: key, x5u: `${base}${path}`, attest: "A" }).identity(
      CALLER,
      DIAL,
    );
    const local = (t.services.messageChannels.reverse_flashcall as unknown as { local: { port: number } }).local;
    const callId = `audit-limits-${i}`;
    const lines = [
      `INVITE sip:${DIAL}@${LISTENER} SIP/2.0`,
      `Via: SIP/2.0/UDP ${TRUNK}:${trunk.port};branch=z9hG4bK-${callId}`,
      `From: <sip:${CALLER}@${TRUNK}>;tag=f${i}`,
      `To: <sip:${DIAL}@${LISTENER}>`,
      `P-Asserted-Identity: <sip:${CALLER}@${TRUNK}>`,
      `Identity: ${identity}`,
      `Call-ID: ${callId}`,
      "CSeq: 1 INVITE",
      "Content-Length: 0",
      "",
      "",
    ].join("\r\n");
    const target = { address: LISTENER, port: local.port };
    trunk.send(lines, target);
    const until = Date.now() + 5000;
    for (;;) {
      const answer = trunk.received.find((r) => r.msg.callId === callId && (r.msg.status ?? 0) >= 300);
      if (answer) {
        trunk.send(lines.replace("INVITE sip:", "ACK sip:").replace("1 INVITE", "1 ACK"), target);
        return answer.msg.status as number;
      }
      if (Date.now() > until) throw new Error(`no final response to ${callId}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it("fetches no certificate for a call over the caller's limit", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push(await call(i, `/c${i}.pem`));
    // Every call gets the same rejection, limited or not; only the two within the limit cost a fetch.
    expect(statuses).toEqual([603, 603, 603, 603, 603]);
    expect(fetched).toEqual(["/c0.pem", "/c1.pem"]);
  });
});
