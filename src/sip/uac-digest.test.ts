/**
 * Digest authentication flows against a scripted raw-UDP peer: what SIPp's verifyauth cannot check (SHA-256, 407,
 * stale nonces, pre-emptive answers with `nc`, retransmitted challenges). The expected `response` values are
 * computed here from RFC 7616 §3.4.1 directly, not with the code under test. SIPp's MD5 check is in
 * test/sip-uac.sipp.test.ts.
 */
import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RawPeer, type Received, sleep } from "../../test/sipp/raw-peer.js";
import { parseAuthParams } from "./digest.js";
import { headerParam } from "./message.js";
import { type PlaceCallOptions, SipUac } from "./uac.js";

const PEER_ADDRESS = "127.0.0.22";
/**
 * Long enough that nothing is retransmitted while the peer answers at once, even on a loaded machine: these tests
 * take the next INVITE to be the re-sent one, never a Timer A copy of the first.
 */
const T1 = 500;
/** How long to watch for an INVITE that must not come (they would follow at once, not on a timer). */
const QUIET_MS = 100;
const CALL: PlaceCallOptions = { to: "+447400123456", cli: "+442079412345", ringTimeMs: 30, maxDialMs: 2000 };
const USER = "flash";
const PASSWORD = "s3cret";
const REALM = "carrier.example";

let peer: RawPeer;
let uac: SipUac;

beforeEach(async () => {
  peer = await RawPeer.create(PEER_ADDRESS);
  uac = await SipUac.create({
    target: { host: PEER_ADDRESS, port: peer.port },
    domain: REALM,
    t1Ms: T1,
    credentials: { username: USER, password: PASSWORD },
  });
});

afterEach(async () => {
  await uac.close();
  await peer.close();
});

const branchOf = (r: Received) => headerParam(r.msg.via[0]!, "branch");
const header = (r: Received, name: string) =>
  r.text
    .split("\r\n")
    .find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}: `))
    ?.slice(name.length + 2);

function challenge(invite: Received, nonce: string, extra = "", status = 407) {
  const name = status === 407 ? "Proxy-Authenticate" : "WWW-Authenticate";
  peer.respond(invite, status, status === 407 ? "Proxy Authentication Required" : "Unauthorized", {
    toTag: "edge",
    headers: [`${name}: Digest realm="${REALM}", nonce="${nonce}", algorithm=SHA-256, qop="auth"${extra}`],
  });
}

/** The Digest parameters of an Authorization/Proxy-Authorization header, and whether its response is right. */
function credentialsOf(request: Received, name = "Proxy-Authorization"): Record<string, unknown> | null {
  const value = header(request, name);
  if (!value) return null;
  const p: Record<string, string | undefined> = Object.fromEntries(parseAuthParams(value.slice("Digest ".length)));
  const sha = (s: string) => createHash("sha256").update(s).digest("hex");
  const ha1 = sha(`${p.username}:${p.realm}:${PASSWORD}`);
  const ha2 = sha(`${request.msg.method}:${p.uri}`);
  const expected = sha(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`);
  return { ...p, valid: p.response === expected && p.uri === request.msg.uri && p.username === USER };
}

/** 100, 180, then answers the CANCEL and ends the INVITE with 487. */
async function ringAndCancel(invite: Received) {
  peer.respond(invite, 100, "Trying");
  peer.respond(invite, 180, "Ringing", { toTag: "h1" });
  const cancel = await peer.next("CANCEL");
  peer.respond(cancel, 200, "OK", { toTag: "h1" });
  peer.respond(invite, 487, "Request Terminated", { toTag: "h1" });
  const ack = await peer.next("ACK");
  return { cancel, ack };
}

describe("SipUac digest authentication", () => {
  it("answers a 407 with SHA-256 (Proxy-Authorization), CSeq + 1 and a new branch; the CANCEL matches it", async () => {
    const call = uac.placeCall(CALL);
    const first = await peer.next("INVITE");
    expect(header(first, "Proxy-Authorization")).toBeUndefined();
    challenge(first, "n-1", ', opaque="op"');
    const challengeAck = await peer.next("ACK");
    expect(branchOf(challengeAck)).toBe(branchOf(first));
    expect(challengeAck.msg.cseq).toBe(1);

    const second = await peer.next("INVITE");
    expect(second.msg).toMatchObject({ callId: first.msg.callId, from: first.msg.from, to: first.msg.to, cseq: 2 });
    expect(branchOf(second)).not.toBe(branchOf(first));
    const answer = credentialsOf(second);
    expect(answer).toMatchObject({
      valid: true,
      realm: REALM,
      nonce: "n-1",
      algorithm: "SHA-256",
      qop: "auth",
      nc: "00000001",
      opaque: "op",
    });
    expect(answer?.cnonce).toMatch(/^[0-9a-f]{32}$/);

    const { cancel, ack } = await ringAndCancel(second);
    expect(branchOf(cancel)).toBe(branchOf(second));
    expect(cancel.msg.cseq).toBe(2);
    expect(branchOf(ack)).toBe(branchOf(second));
    expect(await call.done).toMatchObject({ reason: "ringing_canceled", finalCode: 487 });
    expect(uac.activeCalls).toBe(0);
  });

  it("answers later calls pre-emptively with the same nonce and the next nc, then takes a fresh challenge", async () => {
    const one = uac.placeCall(CALL);
    const first = await peer.next("INVITE");
    challenge(first, "n-1");
    await peer.next("ACK");
    const answered = await peer.next("INVITE");
    await ringAndCancel(answered);
    await one.done;

    const two = uac.placeCall(CALL);
    const preemptive = await peer.next("INVITE");
    expect(preemptive.msg.cseq).toBe(1);
    expect(credentialsOf(preemptive)).toMatchObject({ valid: true, nonce: "n-1", nc: "00000002" });
    await ringAndCancel(preemptive);
    expect(await two.done).toMatchObject({ reason: "ringing_canceled" });

    // The server retired n-1 (without saying stale): the call answers the new challenge once.
    const three = uac.placeCall(CALL);
    const stalePreemptive = await peer.next("INVITE");
    expect(credentialsOf(stalePreemptive)).toMatchObject({ nonce: "n-1", nc: "00000003" });
    challenge(stalePreemptive, "n-2");
    await peer.next("ACK");
    const fresh = await peer.next("INVITE");
    expect(credentialsOf(fresh)).toMatchObject({ valid: true, nonce: "n-2", nc: "00000001" });
    expect(fresh.msg.cseq).toBe(2);
    await ringAndCancel(fresh);
    expect(await three.done).toMatchObject({ reason: "ringing_canceled" });
  });

  it("retries once on stale=true with the new nonce; a second stale challenge ends auth_failed", async () => {
    const call = uac.placeCall(CALL);
    challenge(await peer.next("INVITE"), "n-1");
    await peer.next("ACK");
    const second = await peer.next("INVITE");
    challenge(second, "n-2", ", stale=true");
    await peer.next("ACK");
    const third = await peer.next("INVITE");
    expect(third.msg.cseq).toBe(3);
    expect(credentialsOf(third)).toMatchObject({ valid: true, nonce: "n-2", nc: "00000001" });
    challenge(third, "n-3", ", stale=true");
    await peer.next("ACK");
    expect(await call.done).toMatchObject({ reason: "auth_failed", finalCode: 407 });
    await sleep(QUIET_MS);
    expect(peer.count("INVITE")).toBe(3);
  });

  it("a wrong password ends auth_failed after one answer, and the refused nonce is not reused", async () => {
    const call = uac.placeCall(CALL);
    challenge(await peer.next("INVITE"), "n-1", "", 401);
    await peer.next("ACK");
    const second = await peer.next("INVITE");
    expect(header(second, "Authorization")).toMatch(/^Digest /);
    challenge(second, "n-2", "", 401);
    await peer.next("ACK");
    expect(await call.done).toMatchObject({ reason: "auth_failed", finalCode: 401 });
    await sleep(QUIET_MS);
    expect(peer.count("INVITE")).toBe(2);

    const next = uac.placeCall(CALL);
    const fresh = await peer.next("INVITE");
    expect(header(fresh, "Authorization")).toBeUndefined();
    peer.respond(fresh, 480, "Temporarily Unavailable", { toTag: "x" });
    expect(await next.done).toMatchObject({ reason: "unreachable", finalCode: 480 });
  });

  it("re-ACKs a retransmitted challenge on the replaced INVITE's branch and CSeq", async () => {
    const call = uac.placeCall(CALL);
    const first = await peer.next("INVITE");
    challenge(first, "n-1");
    await peer.next("ACK");
    const second = await peer.next("INVITE");
    challenge(first, "n-1"); // our ACK was "lost"
    const reAck = await peer.next("ACK");
    expect(branchOf(reAck)).toBe(branchOf(first));
    expect(reAck.msg.cseq).toBe(1);
    await ringAndCancel(second);
    expect(await call.done).toMatchObject({ reason: "ringing_canceled" });
    expect(peer.count("INVITE")).toBe(2);
  });

  it("does not answer a challenge from another realm than the configured one", async () => {
    const strict = await SipUac.create({
      target: { host: PEER_ADDRESS, port: peer.port },
      t1Ms: T1,
      credentials: { username: USER, password: PASSWORD, realm: "other.example" },
    });
    try {
      const call = strict.placeCall(CALL);
      challenge(await peer.next("INVITE"), "n-1");
      await peer.next("ACK");
      expect(await call.done).toMatchObject({ reason: "auth_failed", finalCode: 407 });
      expect(peer.count("INVITE")).toBe(1);
    } finally {
      await strict.close();
    }
  });

  it("refuses credentials that cannot go into a header", async () => {
    const target = { host: PEER_ADDRESS, port: peer.port };
    await expect(SipUac.create({ target, credentials: { username: "a\r\nb", password: "p" } })).rejects.toThrow(
      RangeError,
    );
    await expect(SipUac.create({ target, credentials: { username: "", password: "p" } })).rejects.toThrow(RangeError);
  });
});
