/**
 * Interop: our SIP UAC against SIPp playing the handset/carrier, and SIPp placing a call to our virtual handsets.
 * SIPp is a peer we did not write, so these prove the wire format, not just agreement with ourselves. Each case
 * asserts our CallRecord and that SIPp's scenario completed (exit 0, one successful call, clean error log).
 */
import { afterEach, describe, expect, it } from "vitest";
import { VirtualHandsets } from "../src/sandbox/handsets.js";
import { type FlashCaller, type PlaceCallOptions, SipUac, type SipUacOptions } from "../src/sip/uac.js";
import { startSipUacWorker } from "../src/sip/uac-worker.js";
import { expectScenarioPassed, headerValues, type SippMessage, type SippResult, startSipp } from "./sipp/sipp.js";
import { commandExists, peerAvailable } from "./support/peers.js";

const available = peerAvailable("sipp", () => commandExists("sipp"));

/** SIPp's loopback address as the handset; as the caller it gets its own. */
const SIPP_UAS_ADDRESS = "127.0.0.3";
const SIPP_UAC_ADDRESS = "127.0.0.4";
const CALL = { to: "+447400123456", cli: "+442079412345", ringTimeMs: 100, maxDialMs: 5000 };

function received(run: SippResult, method: string): SippMessage[] {
  return run.messages.filter((m) => m.direction === "received" && m.startLine.startsWith(`${method} `));
}

/** Places one call with a caller from `start` to SIPp playing `scenario`; `afterEach(closeCaller)` cleans up. */
let caller: FlashCaller | undefined;
async function closeCaller() {
  await caller?.close();
  caller = undefined;
}
async function placeAgainstSipp(
  start: (options: SipUacOptions) => Promise<FlashCaller>,
  scenario: string,
  options: Partial<PlaceCallOptions> = {},
  uacOptions: Partial<SipUacOptions> = {},
  extraArgs: string[] = [],
) {
  const sipp = await startSipp({ scenario, address: SIPP_UAS_ADDRESS, extraArgs });
  caller = await start({ target: { host: sipp.address, port: sipp.port }, ...uacOptions });
  const record = await caller.placeCall({ ...CALL, ...options }).done;
  const run = await sipp.result;
  return { record, run };
}

describe.skipIf(!available)("SipUac against SIPp as the handset", () => {
  afterEach(closeCaller);
  const inThread = (options: SipUacOptions) => SipUac.create(options);

  it("rings, cancels after the ring time and ACKs the 487 (the normal flash call)", async () => {
    const { record, run } = await placeAgainstSipp(inThread, "uas-ring-cancel.xml", { ringTimeMs: 200 });
    expectScenarioPassed(run);
    expect(record).toMatchObject({ reason: "ringing_canceled", finalCode: 487, reasonHeader: null });
    expect(record.ringingAt).toBeGreaterThanOrEqual(record.startedAt);
    expect(record.endedAt - record.ringingAt!).toBeGreaterThanOrEqual(190);

    const [invite] = received(run, "INVITE");
    const [cancel] = received(run, "CANCEL");
    const [ack] = received(run, "ACK");
    expect(invite?.startLine).toBe(`INVITE sip:${CALL.to}@${SIPP_UAS_ADDRESS} SIP/2.0`);
    expect(headerValues(invite!, "From")[0]).toMatch(new RegExp(`^<sip:\\${CALL.cli}@${SIPP_UAS_ADDRESS}>;tag=\\w+`));
    expect(headerValues(invite!, "P-Asserted-Identity")).toEqual([`<sip:${CALL.cli}@${SIPP_UAS_ADDRESS}>`]);
    expect(headerValues(invite!, "To")).toEqual([`<sip:${CALL.to}@${SIPP_UAS_ADDRESS}>`]);
    expect(headerValues(invite!, "Via")[0]).toMatch(/;branch=z9hG4bK[0-9a-f]{16,}/);
    // §9.1: the CANCEL repeats the INVITE's Via (same branch); the ACK for the 487 too, with the To tag added.
    expect(headerValues(cancel!, "Via")).toEqual(headerValues(invite!, "Via"));
    expect(headerValues(cancel!, "CSeq")).toEqual(["1 CANCEL"]);
    expect(headerValues(ack!, "Via")).toEqual(headerValues(invite!, "Via"));
    expect(headerValues(ack!, "To")[0]).toMatch(/;tag=\d+SIPpTag01/);
  });

  it("ends busy on 486 and keeps the Reason header", async () => {
    const { record, run } = await placeAgainstSipp(inThread, "uas-busy.xml");
    expectScenarioPassed(run);
    expect(record).toMatchObject({
      reason: "busy",
      finalCode: 486,
      ringingAt: null,
      reasonHeader: 'Q.850;cause=17;text="User busy"',
    });
  });

  it("ends not_found on 404", async () => {
    const { record, run } = await placeAgainstSipp(inThread, "uas-not-found.xml");
    expectScenarioPassed(run);
    expect(record).toMatchObject({ reason: "not_found", finalCode: 404, ringingAt: null });
  });

  it.each([
    ["uas-temporarily-unavailable.xml", 480, "Q.850;cause=20", "unreachable"],
    ["uas-unavailable.xml", 503, 'Q.850;cause=34;text="No circuit/channel available"', "network_error"],
    ["uas-decline.xml", 603, "Q.850;cause=21", "rejected"],
    ["uas-unwanted.xml", 607, "Q.850;cause=21", "blocked_by_carrier"],
    ["uas-rejected.xml", 608, "Q.850;cause=21", "blocked_by_carrier"],
  ] as const)("%s: ends on %i with its Reason header, ACKed", async (scenario, status, reasonHeader, reason) => {
    const { record, run } = await placeAgainstSipp(inThread, scenario);
    expectScenarioPassed(run);
    expect(record).toMatchObject({ reason, finalCode: status, ringingAt: null, reasonHeader });
    expect(received(run, "ACK")).toHaveLength(1);
  });

  it("times out when the peer never responds, retransmitting the INVITE on Timer A until Timer B", async () => {
    const { record, run } = await placeAgainstSipp(
      inThread,
      "uas-silent.xml",
      { maxDialMs: 5000 },
      { t1Ms: 50, timerBMs: 600 },
    );
    expectScenarioPassed(run);
    expect(record).toMatchObject({ reason: "timeout", finalCode: null, ringingAt: null });
    expect(record.endedAt - record.startedAt).toBeGreaterThanOrEqual(590);
    // Sent at 0, 50, 150 and 350 ms; the next (750 ms) falls after Timer B.
    expect(received(run, "INVITE")).toHaveLength(4);
  });

  it("cancels at maxDialMs when only 100 Trying came (no_answer)", async () => {
    const { record, run } = await placeAgainstSipp(inThread, "uas-trying-only.xml", { maxDialMs: 300 });
    expectScenarioPassed(run);
    expect(record).toMatchObject({ reason: "no_answer", finalCode: 487, ringingAt: null });
    expect(record.endedAt - record.startedAt).toBeGreaterThanOrEqual(290);
  });

  it("takes 183 Session Progress without 180 as ringing", async () => {
    const { record, run } = await placeAgainstSipp(inThread, "uas-183.xml");
    expectScenarioPassed(run);
    expect(record).toMatchObject({ reason: "ringing_canceled", finalCode: 487 });
    expect(record.ringingAt).not.toBeNull();
  });

  it("absorbs a retransmitted 180 and ACKs a retransmitted 487 again", async () => {
    let ringing = 0;
    const { record, run } = await placeAgainstSipp(
      inThread,
      "uas-retransmissions.xml",
      { onRinging: () => ringing++ },
      {},
      ["-nr"],
    );
    expectScenarioPassed(run);
    expect(record).toMatchObject({ reason: "ringing_canceled", finalCode: 487 });
    expect(ringing).toBe(1);
    expect(received(run, "CANCEL")).toHaveLength(1);
    const acks = received(run, "ACK");
    expect(acks).toHaveLength(2);
    expect(acks[1]!.text).toBe(acks[0]!.text);
  });

  it("ACKs and hangs up a 200 OK that races our CANCEL (answered)", async () => {
    const { record, run } = await placeAgainstSipp(inThread, "uas-answer-after-cancel.xml", { ringTimeMs: 50 });
    expectScenarioPassed(run);
    expect(record).toMatchObject({ reason: "answered", finalCode: 200 });
    expect(record.ringingAt).not.toBeNull();
    expectDialogTornDown(run);
  });

  it("ACKs and hangs up a phone that answers before the ring time is over", async () => {
    const { record, run } = await placeAgainstSipp(inThread, "uas-answer.xml", { ringTimeMs: 5000 });
    expectScenarioPassed(run);
    expect(record).toMatchObject({ reason: "answered", finalCode: 200 });
    expect(received(run, "CANCEL")).toHaveLength(0);
    expectDialogTornDown(run);
  });

  /** §13.2.2.4: the 2xx ACK and the BYE go to the Contact through the Record-Route, each on a new branch. */
  function expectDialogTornDown(run: SippResult): void {
    const [invite] = received(run, "INVITE");
    const [ack] = received(run, "ACK");
    const [bye] = received(run, "BYE");
    const contact = `sip:handset@${SIPP_UAS_ADDRESS}`;
    expect(ack?.startLine).toMatch(new RegExp(`^ACK ${contact}:\\d+;transport=UDP SIP/2.0$`));
    expect(bye?.startLine).toMatch(new RegExp(`^BYE ${contact}:\\d+;transport=UDP SIP/2.0$`));
    expect(headerValues(ack!, "Route")[0]).toMatch(new RegExp(`^<sip:${SIPP_UAS_ADDRESS}:\\d+;lr>$`));
    expect(headerValues(bye!, "Route")).toEqual(headerValues(ack!, "Route"));
    expect(headerValues(ack!, "To")[0]).toMatch(/;tag=\d+SIPpTag01/);
    expect(headerValues(bye!, "CSeq")).toEqual(["2 BYE"]);
    const branches = [invite, ack, bye].map((m) => headerValues(m!, "Via")[0]?.match(/branch=(\w+)/)?.[1]);
    expect(new Set(branches).size).toBe(3);
  }
});

/** The worker-backed caller on the wire: the same SipUac, so a few cases prove the thread boundary, not SIP. */
describe.skipIf(!available)("the SIP worker thread against SIPp as the handset", () => {
  afterEach(closeCaller);

  it("rings, cancels after the ring time and ACKs the 487, reporting the ring on this thread", async () => {
    const rings: number[] = [];
    const { record, run } = await placeAgainstSipp(startSipUacWorker, "uas-ring-cancel.xml", {
      ringTimeMs: 200,
      onRinging: (at) => rings.push(at),
    });
    expectScenarioPassed(run);
    expect(record).toMatchObject({ reason: "ringing_canceled", finalCode: 487, reasonHeader: null });
    expect(rings).toEqual([record.ringingAt]);
    expect(record.endedAt - record.ringingAt!).toBeGreaterThanOrEqual(190);
    const [invite] = received(run, "INVITE");
    expect(invite?.startLine).toBe(`INVITE sip:${CALL.to}@${SIPP_UAS_ADDRESS} SIP/2.0`);
    expect(headerValues(invite!, "Call-ID")).toEqual([record.callId]);
    expect(headerValues(received(run, "CANCEL")[0]!, "Via")).toEqual(headerValues(invite!, "Via"));
  });

  it("ends busy on 486 and keeps the Reason header", async () => {
    const { record, run } = await placeAgainstSipp(startSipUacWorker, "uas-busy.xml");
    expectScenarioPassed(run);
    expect(record).toMatchObject({
      reason: "busy",
      finalCode: 486,
      ringingAt: null,
      reasonHeader: 'Q.850;cause=17;text="User busy"',
    });
  });

  it("ACKs and hangs up a 200 OK that races our CANCEL (answered)", async () => {
    const { record, run } = await placeAgainstSipp(startSipUacWorker, "uas-answer-after-cancel.xml", {
      ringTimeMs: 50,
    });
    expectScenarioPassed(run);
    expect(record).toMatchObject({ reason: "answered", finalCode: 200 });
    expect(received(run, "BYE")).toHaveLength(1);
  });
});

/** The trunk-facing contract (probe, CLI formats, extra headers, challenges) on both callers, on our own addresses. */
describe.skipIf(!available).each([
  ["SipUac", (options: SipUacOptions): Promise<FlashCaller> => SipUac.create(options)],
  ["the SIP worker thread", (options: SipUacOptions): Promise<FlashCaller> => startSipUacWorker(options)],
])("%s: trunk options against SIPp", (_name, start) => {
  afterEach(closeCaller);
  const address = "127.0.0.20";

  it("probe() sends OPTIONS and resolves with SIPp's 200", async () => {
    const sipp = await startSipp({ scenario: "uas-options.xml", address });
    caller = await start({ target: { host: sipp.address, port: sipp.port }, domain: "carrier.example" });
    expect(await caller.probe(5000)).toBe(200);
    const run = await sipp.result;
    expectScenarioPassed(run);
    const [options] = received(run, "OPTIONS");
    expect(options?.startLine).toBe("OPTIONS sip:carrier.example SIP/2.0");
    expect(headerValues(options!, "CSeq")).toEqual(["1 OPTIONS"]);
  });

  it("sends every request to the outbound proxy, the Request-URI still naming the trunk's domain", async () => {
    const sipp = await startSipp({ scenario: "uas-ring-cancel.xml", address });
    // The target is never resolved or contacted: only the proxy is the next hop.
    caller = await start({ target: { host: "trunk.invalid" }, outboundProxy: { host: sipp.address, port: sipp.port } });
    expect(await caller.placeCall(CALL).done).toMatchObject({ reason: "ringing_canceled", finalCode: 487 });
    const run = await sipp.result;
    expectScenarioPassed(run);
    expect(received(run, "INVITE")[0]?.startLine).toBe(`INVITE sip:${CALL.to}@trunk.invalid SIP/2.0`);
    expect(received(run, "CANCEL")[0]?.startLine).toBe(`CANCEL sip:${CALL.to}@trunk.invalid SIP/2.0`);
  });

  it("sends the CLI and number in the trunk's format, with its extra headers", async () => {
    const sipp = await startSipp({ scenario: "uas-ring-cancel.xml", address });
    caller = await start({ target: { host: sipp.address, port: sipp.port } });
    const record = await caller.placeCall({
      ...CALL,
      cliUser: "442079412345",
      toUser: "07400123456",
      headers: [
        ["Privacy", "none"],
        ["X-Account", "flash 7"],
      ],
    }).done;
    const run = await sipp.result;
    expectScenarioPassed(run);
    expect(record).toMatchObject({ reason: "ringing_canceled", finalCode: 487 });
    const [invite] = received(run, "INVITE");
    expect(invite?.startLine).toBe(`INVITE sip:07400123456@${address} SIP/2.0`);
    expect(headerValues(invite!, "From")[0]).toMatch(new RegExp(`^<sip:442079412345@${address}>;tag=`));
    expect(headerValues(invite!, "P-Asserted-Identity")).toEqual([`<sip:442079412345@${address}>`]);
    expect(headerValues(invite!, "Privacy")).toEqual(["none"]);
    expect(headerValues(invite!, "X-Account")).toEqual(["flash 7"]);
    expect(headerValues(received(run, "CANCEL")[0]!, "To")).toEqual(headerValues(invite!, "To"));
  });

  it("answers a 401 with MD5 digest credentials that SIPp's verifyauth accepts, then rings and cancels", async () => {
    const sipp = await startSipp({ scenario: "uas-digest.xml", address });
    caller = await start({
      target: { host: sipp.address, port: sipp.port },
      credentials: { username: "flash", password: "s3cret" },
    });
    const record = await caller.placeCall(CALL).done;
    const run = await sipp.result;
    expectScenarioPassed(run);
    expect(record).toMatchObject({ reason: "ringing_canceled", finalCode: 487 });
    const [first, second] = received(run, "INVITE");
    const [challengeAck, finalAck] = received(run, "ACK");
    const [cancel] = received(run, "CANCEL");
    const branch = (m: SippMessage) => headerValues(m, "Via")[0]?.match(/branch=(\w+)/)?.[1];
    // §22.1 and §8.1.3.5: same Call-ID and From tag, CSeq + 1, a new branch; the challenge's ACK is on the first.
    expect(headerValues(second!, "Call-ID")).toEqual(headerValues(first!, "Call-ID"));
    expect(headerValues(second!, "From")).toEqual(headerValues(first!, "From"));
    expect(headerValues(first!, "CSeq")).toEqual(["1 INVITE"]);
    expect(headerValues(second!, "CSeq")).toEqual(["2 INVITE"]);
    expect(branch(second!)).not.toBe(branch(first!));
    expect(branch(challengeAck!)).toBe(branch(first!));
    expect(headerValues(challengeAck!, "CSeq")).toEqual(["1 ACK"]);
    expect(headerValues(second!, "Authorization")[0]).toMatch(/^Digest username="flash", realm="carrier.example"/);
    // The CANCEL and the 487's ACK belong to the re-sent INVITE's transaction.
    expect(branch(cancel!)).toBe(branch(second!));
    expect(headerValues(cancel!, "CSeq")).toEqual(["2 CANCEL"]);
    expect(branch(finalAck!)).toBe(branch(second!));
    expect(headerValues(finalAck!, "CSeq")).toEqual(["2 ACK"]);
  });

  it("ends auth_failed with a wrong password: challenged again after answering, no third INVITE", async () => {
    const sipp = await startSipp({ scenario: "uas-digest.xml", address });
    caller = await start({
      target: { host: sipp.address, port: sipp.port },
      credentials: { username: "flash", password: "wrong" },
    });
    const record = await caller.placeCall(CALL).done;
    const run = await sipp.result;
    expectScenarioPassed(run);
    expect(record).toMatchObject({ reason: "auth_failed", finalCode: 401, ringingAt: null });
    expect(received(run, "INVITE")).toHaveLength(2);
    expect(received(run, "ACK")).toHaveLength(2);
  });

  it("ends auth_failed when challenged without credentials, after ACKing the 407", async () => {
    const sipp = await startSipp({ scenario: "uas-challenge-only.xml", address });
    caller = await start({ target: { host: sipp.address, port: sipp.port } });
    const record = await caller.placeCall(CALL).done;
    const run = await sipp.result;
    expectScenarioPassed(run);
    expect(record).toMatchObject({ reason: "auth_failed", finalCode: 407, ringingAt: null });
    expect(received(run, "INVITE")).toHaveLength(1);
  });
});

describe.skipIf(!available)("SIPp as the caller to VirtualHandsets", () => {
  it("gets 100, 180, then 200 for its CANCEL and 487 for its INVITE; the handset records the caller ID", async () => {
    const ended: string[] = [];
    const handsets = await VirtualHandsets.create({ port: 0, onCallEnded: (c) => ended.push(c.result) });
    try {
      const sipp = await startSipp({
        scenario: "uac-ring-cancel.xml",
        address: SIPP_UAC_ADDRESS,
        remote: `${handsets.local.address}:${handsets.local.port}`,
        extraArgs: ["-s", "+447400123456"],
      });
      const run = await sipp.result;
      expectScenarioPassed(run);
      expect(run.messages.filter((m) => m.direction === "received").map((m) => m.startLine)).toEqual([
        "SIP/2.0 100 Trying",
        "SIP/2.0 180 Ringing",
        "SIP/2.0 200 OK",
        "SIP/2.0 487 Request Terminated",
      ]);
      const calls = handsets.calls("+447400123456");
      expect(calls).toHaveLength(1);
      expect(calls[0]).toMatchObject({ to: "+447400123456", from: "+442079412345", result: "missed" });
      expect(ended).toEqual(["missed"]);
    } finally {
      await handsets.close();
    }
  });
});
