/**
 * OutgoingCall's state machine without a socket: a manual timer wheel and a context that records what the call
 * sends. The wire behaviour against real peers is in uac.test.ts and the SIPp/Kamailio/baresip suites.
 */
import { describe, expect, it } from "vitest";
import { CallState, CallStateError, transition } from "./call-state.js";
import { DigestClient } from "./digest.js";
import { formatResponse, parseMessage, type SipMessage } from "./message.js";
import type { NonInviteClientTransaction } from "./non-invite-transaction.js";
import { type CallContext, OutgoingCall } from "./outgoing-call.js";
import { TimerWheel } from "./timer-wheel.js";
import type { CallRecord, PlaceCallOptions } from "./types.js";

const T1 = 500;
const CALL: PlaceCallOptions = { to: "+447400123456", cli: "+442079412345", ringTimeMs: 1000, maxDialMs: 10_000 };
const STATES = Object.values(CallState);

/** Every move RFC 3261 §17.1.1.2, §9.1 and RFC 6026 allow, listed independently of call-state.ts's table. */
const LEGAL = new Set([
  "calling>proceeding",
  "calling>cancel_pending",
  "calling>accepted",
  "calling>completed",
  "calling>terminated",
  "cancel_pending>cancelling",
  "cancel_pending>accepted",
  "cancel_pending>completed",
  "cancel_pending>terminated",
  "proceeding>cancelling",
  "proceeding>accepted",
  "proceeding>completed",
  "proceeding>terminated",
  "cancelling>accepted",
  "cancelling>completed",
  "cancelling>terminated",
  "accepted>terminated",
  "completed>calling",
  "completed>terminated",
]);

describe("CallState transitions", () => {
  for (const from of STATES) {
    for (const to of STATES) {
      const legal = LEGAL.has(`${from}>${to}`);
      it(`${from} -> ${to} ${legal ? "is allowed" : "throws"}`, () => {
        if (legal) expect(transition(from, to)).toBe(to);
        else expect(() => transition(from, to)).toThrow(CallStateError);
      });
    }
  }
});

function harness(options: PlaceCallOptions = CALL, digest: DigestClient | null = null) {
  let now = 1_000_000;
  const wheel = new TimerWheel({ clock: () => now, manual: true });
  const sent: SipMessage[] = [];
  const ctx: CallContext = {
    wheel,
    t1: T1,
    t2: 4000,
    reliable: false,
    timerB: 64 * T1,
    send: (data) => {
      const msg = parseMessage(data.toString());
      if (msg) sent.push(msg);
    },
    viaPrefix: "SIP/2.0/UDP 127.0.0.1:5060",
    contact: "<sip:127.0.0.1:5060>",
    domain: "carrier.example",
    userAgent: "flashverify-test",
    scheme: "sip",
    uriParams: "",
    now: () => now,
    transactions: new Map<string, NonInviteClientTransaction>(),
    digest,
    rebranched: () => {},
    ended: () => {},
  };
  const call = new OutgoingCall(ctx, options);
  let record: CallRecord | null = null;
  void call.done.then((r) => {
    record = r;
  });
  const advance = (ms: number) => {
    now += ms;
    wheel.advance();
  };
  const invite = () => sent.find((m) => m.method === "INVITE")!;
  const invites = () => sent.filter((m) => m.method === "INVITE");
  const respond = (
    status: number,
    phrase: string,
    request = invite(),
    extra: { headers?: string[]; body?: string } = {},
  ) => call.onResponse(parseMessage(formatResponse(request, status, phrase, { toTag: "h1", ...extra }))!);
  const methods = () => sent.map((m) => m.method || String(m.status));
  const settled = async () => {
    await Promise.resolve();
    return record;
  };
  return { call, sent, advance, respond, methods, settled, invite, invites };
}

describe("OutgoingCall states", () => {
  it("walks Calling -> Proceeding -> Cancelling -> Terminated on ring, ring time, CANCEL and 487", async () => {
    const h = harness();
    h.call.start();
    expect(h.call.currentState).toBe("calling");
    h.respond(100, "Trying");
    expect(h.call.currentState).toBe("proceeding");
    h.respond(180, "Ringing");
    h.advance(1000);
    expect(h.call.currentState).toBe("cancelling");
    expect(h.methods()).toEqual(["INVITE", "CANCEL"]);
    h.respond(487, "Request Terminated");
    expect(h.call.currentState).toBe("terminated");
    expect(h.methods()).toEqual(["INVITE", "CANCEL", "ACK"]);
    expect(await h.settled()).toMatchObject({ reason: "ringing_canceled", finalCode: 487 });
  });

  it("holds a CANCEL requested before any provisional (§9.1) and sends it on the first 1xx", async () => {
    const h = harness();
    h.call.start();
    h.call.cancel();
    expect(h.call.currentState).toBe("cancel_pending");
    h.advance(T1);
    expect(h.methods()).toEqual(["INVITE", "INVITE"]);
    h.respond(180, "Ringing");
    expect(h.call.currentState).toBe("cancelling");
    expect(h.methods()).toEqual(["INVITE", "INVITE", "CANCEL"]);
    // Timer A stopped with the provisional: no more INVITEs, only the CANCEL's own retransmissions.
    h.advance(4 * T1);
    expect(h.methods().filter((m) => m === "INVITE")).toHaveLength(2);
    h.respond(487, "Request Terminated");
    expect(await h.settled()).toMatchObject({ reason: "ringing_canceled", finalCode: 487 });
  });

  it("ends on Timer B in Calling without an ACK (§17.1.1.2)", async () => {
    const h = harness({ ...CALL, maxDialMs: 120_000 });
    h.call.start();
    for (let i = 0; i < 7; i++) h.advance(T1 * 2 ** i);
    h.advance(64 * T1);
    expect(h.call.currentState).toBe("terminated");
    expect(h.methods().every((m) => m === "INVITE")).toBe(true);
    expect(await h.settled()).toMatchObject({ reason: "timeout", finalCode: null });
  });

  it("moves through Accepted on a 2xx: ACK and BYE, answered", async () => {
    const h = harness();
    h.call.start();
    h.respond(180, "Ringing");
    h.respond(200, "OK");
    expect(h.call.currentState).toBe("terminated");
    expect(h.methods()).toEqual(["INVITE", "ACK", "BYE"]);
    expect(await h.settled()).toMatchObject({ reason: "answered", finalCode: 200 });
  });

  it("ignores what arrives after it settled, without an illegal move", async () => {
    const h = harness();
    h.call.start();
    h.respond(486, "Busy Here");
    expect(h.call.currentState).toBe("terminated");
    h.respond(180, "Ringing");
    h.respond(200, "OK");
    h.call.cancel();
    h.call.abandon();
    h.call.fail("network_error");
    expect(h.call.currentState).toBe("terminated");
    expect(await h.settled()).toMatchObject({ reason: "busy", finalCode: 486 });
  });
});

describe("OutgoingCall at the edges of a carrier's answers", () => {
  const CHALLENGE = 'WWW-Authenticate: Digest realm="carrier.example", nonce="n1", qop="auth", algorithm=MD5';

  it("ends auth_failed on a 403 to the INVITE that carried our credentials, and forgets the nonce", async () => {
    const digest = new DigestClient({ username: "flash", password: "wrong" });
    const h = harness(CALL, digest);
    h.call.start();
    h.respond(401, "Unauthorized", h.invites()[0], { headers: [CHALLENGE] });
    expect(h.call.currentState).toBe("calling");
    expect(h.invites()).toHaveLength(2);
    h.respond(403, "Forbidden", h.invites()[1]);
    expect(await h.settled()).toMatchObject({ reason: "auth_failed", finalCode: 403 });
    expect(digest.preemptive("INVITE", "sip:+447400123456@carrier.example")).toBeNull();
  });

  it("keeps a 403 to an INVITE without credentials as the destination's answer (rejected)", async () => {
    const h = harness(CALL, new DigestClient({ username: "flash", password: "s3cret" }));
    h.call.start();
    h.respond(403, "Forbidden");
    expect(await h.settled()).toMatchObject({ reason: "rejected", finalCode: 403 });
  });

  it("carries a 503's Retry-After into the record, in ms", async () => {
    const h = harness();
    h.call.start();
    h.respond(503, "Service Unavailable", h.invite(), { headers: ["Retry-After: 120 (overloaded);duration=60"] });
    const record = await h.settled();
    expect(record).toMatchObject({ reason: "network_error", finalCode: 503, retryAfterMs: 120_000 });
  });

  it("answers an SDP offer in a 2xx inside the ACK, declining the media with port 0 (§13.2.2.4)", async () => {
    const h = harness();
    h.call.start();
    const offer =
      "v=0\r\no=h 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8\r\n";
    h.respond(200, "OK", h.invite(), { headers: ["Content-Type: application/sdp"], body: offer });
    const ack = h.sent.find((m) => m.method === "ACK")!;
    expect(ack.contentType).toBe("application/sdp");
    expect(ack.body).toContain("m=audio 0 RTP/AVP 0 8\r\n");
    expect(ack.body).toContain("c=IN IP4 127.0.0.1\r\n");
    expect(h.methods()).toEqual(["INVITE", "ACK", "BYE"]);
    expect(await h.settled()).toMatchObject({ reason: "answered", finalCode: 200 });
  });

  it("sends an ACK without a body for a 2xx without an offer", () => {
    const h = harness();
    h.call.start();
    h.respond(200, "OK");
    const ack = h.sent.find((m) => m.method === "ACK")!;
    expect(ack.body).toBe("");
    expect(ack.contentType).toBeNull();
  });
});
