/**
 * The inbound listener on its own thread: an INVITE from a trunk is decided by the starting thread from the fields
 * it reads (the caller, the number dialled, an Identity), and its answer goes back out; a decision that throws
 * answers 500 and is reported; an address outside the trunks' list gets 403 and is reported, deciding nothing; and
 * closing ends the thread and frees the port.
 */
import { BlockList } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InboundCallRequest, InboundListenerThread } from "../src/sip/inbound/listener-thread.js";
import { closeUdpSocket, openUdpSocket } from "../src/sip/udp-socket.js";
import { RawPeer } from "./sipp/raw-peer.js";

const LISTENER = "127.0.31.1";
const TRUNK = "127.0.31.2";
const STRANGER = "127.0.31.3";

let listener: InboundListenerThread;
let trunk: RawPeer;
let stranger: RawPeer;
const decided: InboundCallRequest[] = [];
const untrusted: string[] = [];
const errors: unknown[] = [];

beforeAll(async () => {
  const trunks = new BlockList();
  trunks.addAddress(TRUNK);
  listener = await InboundListenerThread.start({
    address: LISTENER,
    port: 0,
    transports: ["udp", "tcp"],
    trusted: trunks,
    onInvite: async (invite) => {
      decided.push(invite);
      if (invite.message.from?.includes("+447400000666")) throw new Error("no decision");
      return { status: 486, phrase: "Busy Here", headers: ["X-Decided: main"] };
    },
    onUntrusted: (source) => untrusted.push(source.address),
    onError: (error) => errors.push(error),
    t1Ms: 40,
  });
  trunk = await RawPeer.create(TRUNK);
  stranger = await RawPeer.create(STRANGER);
});
afterAll(async () => {
  await listener?.close();
  await trunk?.close();
  await stranger?.close();
});

function invite(peer: RawPeer, branch: string, caller: string): string {
  return [
    `INVITE sip:+442079460999@${LISTENER};user=phone SIP/2.0`,
    `Via: SIP/2.0/UDP ${peer.address}:${peer.port};branch=${branch}`,
    `From: <sip:${caller}@${peer.address}>;tag=f-${branch}`,
    `To: <sip:+442079460999@${LISTENER}>`,
    `P-Asserted-Identity: <sip:${caller}@${peer.address};user=phone>`,
    "Identity: eyJhbGciOiJFUzI1NiJ9.e30.c2ln;info=<https://cert.example/x.pem>",
    `Call-ID: call-${branch}`,
    "CSeq: 1 INVITE",
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
}

const target = () => ({ address: LISTENER, port: listener.local.port });

describe("inbound listener thread", () => {
  it("has the starting thread decide a trunk's INVITE from the fields it reads, and sends its answer", async () => {
    trunk.send(invite(trunk, "z9hG4bK-t1", "+447400123456"), target());
    const answer = await trunk.next(486);
    expect(answer.text).toContain("X-Decided: main");
    expect(decided.at(-1)).toEqual({
      transport: "udp",
      source: { address: TRUNK, port: trunk.port },
      message: {
        uri: `sip:+442079460999@${LISTENER};user=phone`,
        to: `<sip:+442079460999@${LISTENER}>`,
        from: `<sip:+447400123456@${TRUNK}>;tag=f-z9hG4bK-t1`,
        assertedIdentities: [`<sip:+447400123456@${TRUNK};user=phone>`],
        identity: "eyJhbGciOiJFUzI1NiJ9.e30.c2ln;info=<https://cert.example/x.pem>",
      },
    });
  });

  it("answers 500 when the decision throws, and reports the error", async () => {
    trunk.send(invite(trunk, "z9hG4bK-t2", "+447400000666"), target());
    expect((await trunk.next(500)).msg.reasonPhrase).toBe("Server Internal Error");
    expect(errors.map((e) => (e as Error).message)).toContain("no decision");
  });

  it("refuses an address that is not a trunk with 403 and reports it, deciding nothing", async () => {
    const before = decided.length;
    stranger.send(invite(stranger, "z9hG4bK-s1", "+447400123456"), target());
    expect((await stranger.next(403)).msg.reasonPhrase).toBe("Forbidden");
    await expect.poll(() => untrusted).toContain(STRANGER);
    expect(decided.length).toBe(before);
  });

  it("ends the thread on close, and frees its port", async () => {
    const { port } = listener.local;
    await listener.close();
    const socket = await openUdpSocket({ address: LISTENER, port });
    await closeUdpSocket(socket);
  });
});
