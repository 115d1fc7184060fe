/**
 * VirtualHandsets as a UAS, driven by a scripted raw-UDP caller so every response can be checked on the wire.
 * Our UAC against the handsets is in test/sip-handsets.test.ts, SIPp against them in test/sip-uac.sipp.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RawPeer, type Received, sleep } from "../../test/sipp/raw-peer.js";
import { headerParam } from "../sip/message.js";
import { type HandsetCall, VirtualHandsets } from "./handsets.js";

const CALLER_ADDRESS = "127.0.0.6";
const T1 = 20;

let caller: RawPeer;
let handsets: VirtualHandsets;
let incoming: HandsetCall[];
let ended: HandsetCall[];
let callSeq = 0;

beforeEach(async () => {
  caller = await RawPeer.create(CALLER_ADDRESS);
  incoming = [];
  ended = [];
  handsets = await VirtualHandsets.create({
    port: 0,
    t1Ms: T1,
    onIncomingCall: (c) => incoming.push({ ...c }),
    onCallEnded: (c) => ended.push({ ...c }),
  });
});

afterEach(async () => {
  await handsets.close();
  await caller.close();
});

/** A request as a proxy would forward it: its own Via on top of the caller's. */
function request(method: string, to: string, opts: { callId: string; cseq?: number; from?: string; toTag?: string }) {
  const via = `SIP/2.0/UDP ${CALLER_ADDRESS}:${caller.port};branch=z9hG4bK-proxy-${opts.callId}`;
  const ua = `SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bK-ua-${opts.callId}`;
  const toHeader = `<sip:${to}@${handsets.local.address}>${opts.toTag ? `;tag=${opts.toTag}` : ""}`;
  return (
    `${method} sip:${to}@${handsets.local.address} SIP/2.0\r\n` +
    `Via: ${via}\r\n${method === "INVITE" ? `Via: ${ua}\r\n` : ""}` +
    `From: "Flash" <sip:${opts.from ?? "+442079412345"}@example.com>;tag=f\r\nTo: ${toHeader}\r\n` +
    `Call-ID: ${opts.callId}\r\nCSeq: ${opts.cseq ?? 1} ${method === "ACK" ? "ACK" : method}\r\nMax-Forwards: 70\r\n` +
    "Content-Length: 0\r\n\r\n"
  );
}

function invite(to: string, from?: string) {
  const callId = `call-${++callSeq}`;
  const text = request("INVITE", to, { callId, from });
  caller.send(text, handsets.local);
  return { callId, text };
}

const status = (r: Received) => r.msg.status;

describe("VirtualHandsets", () => {
  it("rings (100, 180), then on CANCEL answers 200 and 487 with the INVITE's Via stack, retransmitted until ACK", async () => {
    const { callId, text } = invite("+447400123456");
    expect(status(await caller.next(100))).toBe(100);
    const ringing = await caller.next(180);
    const tag = headerParam(ringing.msg.to!, "tag");
    expect(tag).toMatch(/^[0-9a-f]{16}$/);
    expect(incoming).toMatchObject([{ callId, to: "+447400123456", from: "+442079412345", result: "ringing" }]);

    caller.send(text, handsets.local); // INVITE retransmission: the last response again
    expect(headerParam((await caller.next(180)).msg.to!, "tag")).toBe(tag);

    caller.send(request("CANCEL", "+447400123456", { callId }), handsets.local);
    const cancelOk = await caller.next(200);
    expect(cancelOk.msg.cseqMethod).toBe("CANCEL");
    expect(cancelOk.msg.via).toHaveLength(1);
    const terminated = await caller.next(487);
    expect(terminated.msg.cseqMethod).toBe("INVITE");
    expect(terminated.msg.via).toEqual([
      `SIP/2.0/UDP ${CALLER_ADDRESS}:${caller.port};branch=z9hG4bK-proxy-${callId}`,
      `SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bK-ua-${callId}`,
    ]);
    expect(headerParam(terminated.msg.to!, "tag")).toBe(tag);
    expect(ended).toMatchObject([{ callId, result: "missed" }]);

    const again = await caller.next(487); // Timer G: no ACK yet
    // Sent T1 after the first; seen here sooner by however late this loaded test process read the first (17 ms of
    // 20 measured once), so the bound tells a retransmission on Timer G from one sent at once, not milliseconds.
    expect(again.at - terminated.at).toBeGreaterThanOrEqual(T1 / 2);
    caller.send(request("ACK", "+447400123456", { callId, toTag: tag! }), handsets.local);
    await sleep(4 * T1);
    const count = caller.received.filter((r) => r.msg.status === 487).length;
    await sleep(10 * T1);
    expect(caller.received.filter((r) => r.msg.status === 487)).toHaveLength(count);
    expect(handsets.calls("+447400123456")).toMatchObject([{ callId, result: "missed" }]);
  });

  it.each([
    ["+447400120486", 486, "busy"],
    ["+447400120404", 404, "not_found"],
  ] as const)("%s answers %i at once (%s)", async (to, code, result) => {
    const { callId } = invite(to);
    const final = await caller.next(code);
    expect(headerParam(final.msg.to!, "tag")).not.toBeNull();
    expect(caller.received.filter((r) => r.msg.status === 180)).toHaveLength(0);
    caller.send(request("ACK", to, { callId, toTag: headerParam(final.msg.to!, "tag")! }), handsets.local);
    expect(handsets.calls(to)).toMatchObject([{ callId, result }]);
    expect(ended).toMatchObject([{ callId, result }]);
    expect(incoming).toEqual([]);
  });

  it("+447400120408 never responds, even to retransmissions (no_answer)", async () => {
    const { callId, text } = invite("+447400120408");
    await sleep(3 * T1);
    caller.send(text, handsets.local);
    await sleep(3 * T1);
    expect(caller.received).toEqual([]);
    expect(handsets.calls("+447400120408")).toMatchObject([{ callId, result: "no_answer" }]);
  });

  it("+447400120200 answers 200 (retransmitted until ACK), answers BYE, and 200s a late CANCEL", async () => {
    const to = "+447400120200";
    const { callId } = invite(to);
    await caller.next(180);
    const ok = await caller.next(200);
    expect(ok.msg.contact).toBe(`<sip:${to}@${handsets.local.address}:${handsets.local.port}>`);
    expect(ended).toMatchObject([{ callId, result: "answered" }]);
    await caller.next(200); // retransmitted: no ACK yet
    const toTag = headerParam(ok.msg.to!, "tag")!;
    caller.send(request("CANCEL", to, { callId }), handsets.local);
    expect((await caller.next(200)).msg.cseqMethod).toBe("CANCEL");
    caller.send(request("ACK", to, { callId, toTag }).replace("z9hG4bK-proxy", "z9hG4bK-ack"), handsets.local);
    caller.send(request("BYE", to, { callId, cseq: 2, toTag }).replace("z9hG4bK-proxy", "z9hG4bK-bye"), handsets.local);
    let bye: Received;
    do bye = await caller.next(200);
    while (bye.msg.cseqMethod !== "BYE");
    expect(handsets.calls(to)).toMatchObject([{ callId, result: "answered" }]);
  });

  it("answers 481 to a CANCEL or BYE for an unknown call, 200 to OPTIONS, 501 to other methods", async () => {
    caller.send(request("CANCEL", "+447400123456", { callId: "nope" }), handsets.local);
    expect((await caller.next(481)).msg.cseqMethod).toBe("CANCEL");
    caller.send(request("BYE", "+447400123456", { callId: "nope" }), handsets.local);
    expect((await caller.next(481)).msg.cseqMethod).toBe("BYE");
    caller.send(request("OPTIONS", "+447400123456", { callId: "ping" }), handsets.local);
    expect((await caller.next(200)).msg.cseqMethod).toBe("OPTIONS");
    caller.send(request("MESSAGE", "+447400123456", { callId: "msg" }), handsets.local);
    expect((await caller.next(501)).msg.cseqMethod).toBe("MESSAGE");
  });

  it("stops ringing after ringTimeoutMs with 480 (missed)", async () => {
    await handsets.close();
    handsets = await VirtualHandsets.create({ port: 0, t1Ms: T1, ringTimeoutMs: 60 });
    const { callId } = invite("+447400123456");
    await caller.next(480);
    expect(handsets.calls("+447400123456")).toMatchObject([{ callId, result: "missed" }]);
  });

  it("keeps calls newest first, at most maxCallsPerPhone, for at most maxPhones (least recently called dropped)", async () => {
    await handsets.close();
    handsets = await VirtualHandsets.create({ port: 0, t1Ms: T1, maxCallsPerPhone: 2, maxPhones: 2 });
    const a = [invite("+447400000001"), invite("+447400000001"), invite("+447400000001")];
    invite("+447400000002");
    await sleep(5 * T1);
    invite("447400000001", "442079412345"); // digits only: both numbers gain their "+"
    invite("+447400000003"); // evicts ...0002, the least recently called
    await sleep(5 * T1);
    const first = handsets.calls("+447400000001");
    expect(first).toHaveLength(2);
    expect(first[0]).toMatchObject({ to: "+447400000001", from: "+442079412345" });
    expect(first[1]?.callId).toBe(a[2]!.callId);
    expect(handsets.calls("447400000001")).toEqual(first);
    expect(handsets.calls("+447400000002")).toEqual([]);
    expect(handsets.calls("+447400000003")).toHaveLength(1);
  });

  it("drops a flash call to a dropping range silently: 180, then 487 to the CANCEL, and the phone records nothing", async () => {
    const { callId, text } = invite("+447520123456");
    expect(status(await caller.next(100))).toBe(100);
    await caller.next(180);
    caller.send(request("CANCEL", "+447520123456", { callId }), handsets.local);
    expect((await caller.next(200)).msg.cseqMethod).toBe("CANCEL");
    expect(status(await caller.next(487))).toBe(487);
    caller.send(request("ACK", "+447520123456", { callId }), handsets.local);
    caller.send(text, handsets.local); // a late retransmission changes nothing
    await sleep(10 * T1);
    expect(handsets.calls("+447520123456")).toEqual([]);
    expect(incoming).toEqual([]);
    expect(ended).toEqual([]);
  });

  it("shows a flash call to a late range on the phone only lateDeliveryMs after it rang", async () => {
    await handsets.close();
    handsets = await VirtualHandsets.create({
      port: 0,
      t1Ms: T1,
      lateDeliveryMs: 300,
      onIncomingCall: (c) => incoming.push({ ...c }),
    });
    const sent = Date.now();
    const { callId } = invite("+447530123456");
    await caller.next(180);
    caller.send(request("CANCEL", "+447530123456", { callId }), handsets.local);
    await caller.next(487);
    caller.send(request("ACK", "+447530123456", { callId }), handsets.local);
    expect(handsets.calls("+447530123456")).toEqual([]);
    expect(incoming).toEqual([]);
    await sleep(400);
    const [late] = handsets.calls("+447530123456");
    expect(late).toMatchObject({ callId, from: "+442079412345", result: "missed" });
    expect((late?.receivedAt ?? 0) - sent).toBeGreaterThanOrEqual(290);
    expect(incoming).toMatchObject([{ callId, to: "+447530123456" }]);
  });

  it("drops and delays only the ranges it is given", async () => {
    await handsets.close();
    handsets = await VirtualHandsets.create({ port: 0, t1Ms: T1, droppingPrefixes: [], latePrefixes: [] });
    invite("+447520123456");
    invite("+447530123456");
    await sleep(5 * T1);
    expect(handsets.calls("+447520123456")).toHaveLength(1);
    expect(handsets.calls("+447530123456")).toHaveLength(1);
  });
});
