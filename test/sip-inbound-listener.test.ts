/**
 * The inbound listener's INVITE server transactions (RFC 3261 §17.2.1) against a scripted UDP peer: the final
 * response is retransmitted on Timer G until the ACK, a retransmitted INVITE is answered with the same response and
 * decided once, CANCEL and OPTIONS get 200, other requests 405, and an address that is not a trunk 403. Over TLS
 * the trunk verifies the listener's certificate (made by openssl for its address) and gets its answer.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect as connectTcp } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InboundInvite, InboundListener } from "../src/sip/inbound/listener.js";
import { headerParam } from "../src/sip/message.js";
import { RawPeer, sleep } from "./sipp/raw-peer.js";
import { commandExists, peerAvailable } from "./support/peers.js";

const LISTENER = "127.0.18.21";
const TRUNK = "127.0.18.22";
const STRANGER = "127.0.18.23";
const T1_MS = 40;

let listener: InboundListener;
let trunk: RawPeer;
let stranger: RawPeer;
const decided: InboundInvite[] = [];

beforeAll(async () => {
  listener = await InboundListener.start({
    address: LISTENER,
    port: 0,
    transports: ["udp", "tcp"],
    trusted: (address) => address === TRUNK,
    onInvite: async (invite) => {
      decided.push(invite);
      return { status: 603, phrase: "Decline" };
    },
    t1Ms: T1_MS,
  });
  trunk = await RawPeer.create(TRUNK);
  stranger = await RawPeer.create(STRANGER);
});
afterAll(async () => {
  await listener?.close();
  await trunk?.close();
  await stranger?.close();
});

let n = 0;
function request(peer: RawPeer, method: string, branch: string, cseqMethod = method): string {
  n++;
  return [
    `${method} sip:+442079460999@${LISTENER} SIP/2.0`,
    `Via: SIP/2.0/UDP ${peer.address}:${peer.port};branch=${branch}`,
    `From: <sip:+447400123456@${peer.address}>;tag=f${n}`,
    `To: <sip:+442079460999@${LISTENER}>`,
    `Call-ID: call-${branch}`,
    `CSeq: 1 ${cseqMethod}`,
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
}

const target = () => ({ address: LISTENER, port: listener.local.port });

describe("inbound listener", () => {
  it("retransmits its final response on Timer G until the ACK, and decides a retransmitted INVITE once", async () => {
    const before = decided.length;
    trunk.send(request(trunk, "INVITE", "z9hG4bK-g1"), target());
    const first = await trunk.next(603);
    // Timer G: the response again after T1, unasked (awaited rather than slept for: a loaded machine runs timers late).
    const retransmitted = await trunk.next(603);
    expect(retransmitted.msg.callId).toBe(first.msg.callId);
    trunk.send(request(trunk, "INVITE", "z9hG4bK-g1"), target());
    const again = await trunk.next(603);
    expect(headerParam(again.msg.to ?? "", "tag")).toBe(headerParam(first.msg.to ?? "", "tag"));
    // The first response, its retransmission, and the answer to the retransmitted INVITE: at least three before the ACK.
    expect(trunk.received.filter((r) => r.msg.status === 603).length).toBeGreaterThanOrEqual(3);
    trunk.send(request(trunk, "ACK", "z9hG4bK-g1"), target());
    await sleep(T1_MS * 2);
    const afterAck = trunk.received.filter((r) => r.msg.status === 603).length;
    await sleep(T1_MS * 8);
    expect(trunk.received.filter((r) => r.msg.status === 603).length).toBe(afterAck);
    expect(decided.length).toBe(before + 1);
    expect(decided.at(-1)).toMatchObject({ transport: "udp", source: { address: TRUNK } });
  });

  it("answers CANCEL and OPTIONS with 200 and any other request with 405", async () => {
    trunk.send(request(trunk, "INVITE", "z9hG4bK-c1"), target());
    await trunk.next(603);
    trunk.send(request(trunk, "CANCEL", "z9hG4bK-c1"), target());
    expect((await trunk.next(200)).msg.cseqMethod).toBe("CANCEL");
    trunk.send(request(trunk, "CANCEL", "z9hG4bK-unknown"), target());
    expect((await trunk.next(481)).msg.cseqMethod).toBe("CANCEL");
    trunk.send(request(trunk, "OPTIONS", "z9hG4bK-o1"), target());
    expect((await trunk.next(200)).msg.cseqMethod).toBe("OPTIONS");
    trunk.send(request(trunk, "BYE", "z9hG4bK-b1"), target());
    expect((await trunk.next(405)).text).toContain("Allow: INVITE, ACK, CANCEL, OPTIONS");
  });

  it("refuses an address that is not a trunk with 403, deciding nothing", async () => {
    const before = decided.length;
    stranger.send(request(stranger, "INVITE", "z9hG4bK-s1"), target());
    expect((await stranger.next(403)).msg.reasonPhrase).toBe("Forbidden");
    stranger.send(request(stranger, "OPTIONS", "z9hG4bK-s2"), target());
    await stranger.next(403);
    expect(decided.length).toBe(before);
  });
});

const openssl = peerAvailable("openssl", () => commandExists("openssl"));

describe.skipIf(!openssl)("inbound listener over TLS", () => {
  const TLS_LISTENER = "127.0.18.24";
  let dir: string;
  let secure: InboundListener;
  let cert: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "flashverify-inbound-tls-"));
    execFileSync("openssl", [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"],
      ...["-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-subj", `/CN=${TLS_LISTENER}`],
      ...["-addext", `subjectAltName=IP:${TLS_LISTENER}`],
    ]);
    cert = readFileSync(join(dir, "cert.pem"), "utf8");
    secure = await InboundListener.start({
      address: TLS_LISTENER,
      port: 0,
      transports: ["udp"],
      tls: { port: 0, cert, key: readFileSync(join(dir, "key.pem"), "utf8") },
      trusted: (address) => address === TRUNK,
      onInvite: async () => ({ status: 603, phrase: "Decline" }),
    });
  });
  afterAll(async () => {
    await secure?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers an INVITE on a TLS connection whose certificate the trunk verified", async () => {
    // From the trunk's address, which the listener trusts; the certificate names the listener's.
    const tcp = connectTcp({ host: TLS_LISTENER, port: secure.tlsPort as number, localAddress: TRUNK });
    const socket = connect({ socket: tcp, host: TLS_LISTENER, ca: cert });
    await new Promise<void>((resolve, reject) => {
      socket.once("secureConnect", resolve);
      socket.once("error", reject);
    });
    expect(socket.authorized).toBe(true);
    const answer = new Promise<string>((resolve) => {
      let text = "";
      socket.on("data", (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes("\r\n\r\n")) resolve(text);
      });
    });
    socket.write(request(trunk, "INVITE", "z9hG4bK-tls1").replace("SIP/2.0/UDP", "SIP/2.0/TLS"));
    expect((await answer).split("\r\n")[0]).toBe("SIP/2.0 603 Decline");
    socket.destroy();
  });
});
