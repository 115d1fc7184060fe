/**
 * Hostile senders at the inbound listener. An address that is no trunk gets one 403 and nothing else: no Timer G
 * retransmissions (over UDP its source may be forged, and ten answers per packet would make the listener a
 * reflector), and no reach into a trunk's transactions through their keys (Via branch and sent-by, which anyone
 * can copy): its INVITE does not get the trunk's answer, its ACK does not stop the trunk's retransmissions, and an
 * INVITE it sends first does not decide the trunk's later one. Over TCP it holds no connection: closed with its
 * 403, or when idle for 64*T1, so idle connections cannot pile up.
 */
import { connect as connectTcp } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type InboundInvite, InboundListener } from "../src/sip/inbound/listener.js";
import { RawPeer, sleep } from "./sipp/raw-peer.js";

const LISTENER = "127.0.26.1";
const TRUNK = "127.0.26.2";
const STRANGER = "127.0.26.3";
const T1_MS = 40;

let listener: InboundListener;
let trunk: RawPeer;
let stranger: RawPeer;
const decided: InboundInvite[] = [];

beforeAll(async () => {
  listener = await InboundListener.start({
    address: LISTENER,
    port: 0,
    transports: ["udp"],
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
/** A request whose Via names `via` (the trunk's, when the stranger copies it), sent by whoever sends it. */
function request(method: string, branch: string, via: RawPeer): string {
  n++;
  return [
    `${method} sip:+442079460999@${LISTENER} SIP/2.0`,
    `Via: SIP/2.0/UDP ${via.address}:${via.port};branch=${branch}`,
    `From: <sip:+447400123456@${via.address}>;tag=f${n}`,
    `To: <sip:+442079460999@${LISTENER}>`,
    `Call-ID: call-${branch}`,
    `CSeq: 1 ${method}`,
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
}

const target = () => ({ address: LISTENER, port: listener.local.port });
const count = (peer: RawPeer, status: number) => peer.received.filter((r) => r.msg.status === status).length;

describe("inbound listener against senders that are no trunk", () => {
  it("answers an INVITE it never ACKs with one 403, not a Timer G series", async () => {
    const before = count(stranger, 403);
    stranger.send(request("INVITE", "z9hG4bK-amp1", stranger), target());
    await stranger.next(403);
    // Timer G would have sent it again at T1, 3*T1, 7*T1, 15*T1 by now.
    await sleep(T1_MS * 20);
    expect(count(stranger, 403)).toBe(before + 1);
  });

  it("gives a copied transaction key nothing: no trunk answer, no ACK for the trunk, no decision in advance", async () => {
    // The stranger answers first with the key the trunk is about to use: the trunk's INVITE is still decided.
    stranger.send(request("INVITE", "z9hG4bK-copy1", trunk), target());
    await stranger.next(403);
    const before = decided.length;
    trunk.send(request("INVITE", "z9hG4bK-copy1", trunk), target());
    await trunk.next(603);
    expect(decided.length).toBe(before + 1);

    // A copy of the trunk's INVITE gets 403, not the trunk's 603, and the stranger's ACK stops nothing.
    const stranger603 = count(stranger, 603);
    stranger.send(request("INVITE", "z9hG4bK-copy1", trunk), target());
    await stranger.next(403);
    stranger.send(request("ACK", "z9hG4bK-copy1", trunk), target());
    const trunk603 = count(trunk, 603);
    // Timer G goes on for the trunk (its next retransmission is due within 64*T1 of the first answer).
    for (let waited = 0; waited < 1500 && count(trunk, 603) === trunk603; waited += T1_MS) await sleep(T1_MS);
    expect(count(trunk, 603)).toBeGreaterThan(trunk603);
    expect(count(stranger, 603)).toBe(stranger603);
    trunk.send(request("ACK", "z9hG4bK-copy1", trunk), target());
    expect(decided.length).toBe(before + 1);
  });
});

describe("inbound listener's TCP side against senders that are no trunk", () => {
  let tcpListener: InboundListener;
  beforeAll(async () => {
    tcpListener = await InboundListener.start({
      address: "127.0.26.4",
      port: 0,
      transports: ["tcp"],
      trusted: (address) => address === TRUNK,
      onInvite: async () => ({ status: 603, phrase: "Decline" }),
      t1Ms: T1_MS,
    });
  });
  afterAll(async () => {
    await tcpListener?.close();
  });

  /** A connection from `from`; resolves with what it received once the listener closed it (or after `ms`). */
  function connection(from: string, send: string | null, ms: number): Promise<{ text: string; closed: boolean }> {
    return new Promise((resolve) => {
      const socket = connectTcp({ host: "127.0.26.4", port: tcpListener.local.port, localAddress: from });
      let text = "";
      const done = (closed: boolean) => {
        clearTimeout(timer);
        socket.destroy();
        resolve({ text, closed });
      };
      const timer = setTimeout(() => done(false), ms);
      socket.on("data", (chunk: Buffer) => {
        text += chunk.toString();
      });
      socket.on("end", () => done(true));
      socket.on("close", () => done(true));
      socket.on("error", () => undefined);
      if (send) socket.once("connect", () => socket.write(send));
    });
  }

  const invite = (from: string) =>
    [
      "INVITE sip:+442079460999@127.0.26.4 SIP/2.0",
      `Via: SIP/2.0/TCP ${from}:5060;branch=z9hG4bK-tcp-${from}`,
      `From: <sip:+447400123456@${from}>;tag=t1`,
      "To: <sip:+442079460999@127.0.26.4>",
      `Call-ID: tcp-${from}`,
      "CSeq: 1 INVITE",
      "Content-Length: 0",
      "",
      "",
    ].join("\r\n");

  it("closes a stranger's connection with its 403, and an idle one after 64*T1, while a trunk's stays open", async () => {
    const [answered, idle, trunkSide] = await Promise.all([
      connection(STRANGER, invite(STRANGER), 64 * T1_MS * 2),
      connection(STRANGER, null, 64 * T1_MS * 3),
      connection(TRUNK, invite(TRUNK), 64 * T1_MS * 2),
    ]);
    expect(answered.text.split("\r\n")[0]).toBe("SIP/2.0 403 Forbidden");
    expect(answered.closed).toBe(true);
    expect(idle).toEqual({ text: "", closed: true });
    expect(trunkSide.text.split("\r\n")[0]).toBe("SIP/2.0 603 Decline");
    expect(trunkSide.closed).toBe(false);
  });
});
