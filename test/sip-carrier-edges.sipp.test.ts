/**
 * Interop: what carriers answer at the edges, with SIPp playing them. A 403 to an INVITE that carried the trunk's
 * credentials is the trunk's account failing (auth_failed: fail over); a 503 with Retry-After takes its trunk out of
 * rotation for that long; a 2xx carrying an SDP offer gets its answer in the ACK, media declined, then the BYE.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startTrunkRouter, type TrunkEvent, type TrunkRouter, TrunkSchema } from "../src/sip/trunks/index.js";
import { type FlashCaller, SipUac } from "../src/sip/uac.js";
import { startSipUacWorker } from "../src/sip/uac-worker.js";
import { expectScenarioPassed, headerValues, type SippResult, startSipp } from "./sipp/sipp.js";
import { commandExists, peerAvailable } from "./support/peers.js";
import { eventually } from "./support/test-app.js";

const available = peerAvailable("sipp", () => commandExists("sipp"));

const OUR_ADDRESS = "127.0.0.105";
const FIRST_CARRIER = "127.0.0.106";
const SECOND_CARRIER = "127.0.0.107";
const HANDSET = "127.0.0.108";
const CALL = { to: "+447400123456", cli: "+442079412345", ringTimeMs: 100, maxDialMs: 5000 };

const received = (run: SippResult, method: string) =>
  run.messages.filter((m) => m.direction === "received" && m.startLine.startsWith(`${method} `));

/** The INVITE transactions a peer saw (Call-ID and CSeq), Timer A's retransmissions counted once. */
const inviteTransactions = (run: SippResult) => [
  ...new Set(received(run, "INVITE").map((m) => `${headerValues(m, "Call-ID")[0]} ${headerValues(m, "CSeq")[0]}`)),
];

describe.skipIf(!available)("trunk layer against SIPp carriers at their edges", () => {
  let router: TrunkRouter | undefined;
  afterEach(async () => {
    await router?.close();
    router = undefined;
  });

  it("a 403 to the INVITE that carried our credentials is auth_failed and fails over to the next trunk", async () => {
    const refusing = await startSipp({ scenario: "uas-403-after-auth.xml", address: FIRST_CARRIER });
    const backup = await startSipp({ scenario: "uas-ring-cancel.xml", address: SECOND_CARRIER });
    router = await startTrunkRouter({
      trunks: [
        TrunkSchema.parse({
          id: "refusing",
          host: refusing.address,
          port: refusing.port,
          auth: { username: "flash", password: "expired" },
        }),
        TrunkSchema.parse({ id: "backup", host: backup.address, port: backup.port }),
      ],
      localAddress: OUR_ADDRESS,
      t1Ms: 50,
      startCaller: (options) => SipUac.create(options),
    });
    const record = await router.placeCall(CALL).done;
    expect(record).toMatchObject({ trunk: "backup", reason: "ringing_canceled", finalCode: 487 });
    expect(record.failedOver).toEqual([
      { trunk: "refusing", reason: "auth_failed", finalCode: 403, reasonHeader: null },
    ]);
    const refusingRun = await refusing.result;
    expectScenarioPassed(refusingRun);
    // The challenged INVITE and the one with credentials; no third after the 403.
    expect(inviteTransactions(refusingRun).map((t) => t.split(" ").slice(1).join(" "))).toEqual([
      "1 INVITE",
      "2 INVITE",
    ]);
    expectScenarioPassed(await backup.result);
  });

  it("a 503 with Retry-After takes the trunk out of rotation for that long, then it is back by itself", async () => {
    const overloaded = await startSipp({ scenario: "uas-503-retry-after.xml", address: FIRST_CARRIER, calls: 1 });
    const backup = await startSipp({ scenario: "uas-ring-cancel.xml", address: SECOND_CARRIER, calls: 2 });
    const events: TrunkEvent[] = [];
    router = await startTrunkRouter({
      trunks: [
        TrunkSchema.parse({ id: "overloaded", host: overloaded.address, port: overloaded.port }),
        TrunkSchema.parse({ id: "backup", host: backup.address, port: backup.port }),
      ],
      localAddress: OUR_ADDRESS,
      t1Ms: 50,
      onEvent: (event) => events.push(event),
      startCaller: (options) => SipUac.create(options),
    });
    const first = await router.placeCall(CALL).done;
    expect(first).toMatchObject({ trunk: "backup", reason: "ringing_canceled" });
    expect(first.failedOver).toEqual([
      { trunk: "overloaded", reason: "network_error", finalCode: 503, reasonHeader: null },
    ]);
    expect(events).toEqual([{ type: "out_of_service", trunk: "overloaded" }]);

    // Within the 5 s it asked for, the next call goes straight to the backup: the carrier sees one INVITE only.
    const second = await router.placeCall(CALL).done;
    expect(second).toMatchObject({ trunk: "backup", failedOver: [] });
    const overloadedRun = await overloaded.result;
    expectScenarioPassed(overloadedRun);
    expect(inviteTransactions(overloadedRun)).toHaveLength(1);
    const backupRun = await backup.result;
    expect({ exitCode: backupRun.exitCode, successful: backupRun.successful, errors: backupRun.errors }).toEqual({
      exitCode: 0,
      successful: 2,
      errors: "",
    });

    await eventually(() => (router?.status().find((s) => s.id === "overloaded")?.inService ? true : undefined), 15_000);
    expect(events).toEqual([
      { type: "out_of_service", trunk: "overloaded" },
      { type: "back_in_service", trunk: "overloaded" },
    ]);
  }, 40_000);
});

describe.skipIf(!available).each([
  ["SipUac", (options: Parameters<typeof SipUac.create>[0]) => SipUac.create(options)],
  ["the worker", startSipUacWorker],
] as const)("%s against a phone that answers with an SDP offer", (_name, start) => {
  let caller: FlashCaller | undefined;
  afterEach(async () => {
    await caller?.close();
    caller = undefined;
  });

  it("answers the offer in the ACK with the media declined (port 0), then hangs up with BYE", async () => {
    const sipp = await startSipp({ scenario: "uas-answer-with-offer.xml", address: HANDSET });
    caller = await start({ target: { host: sipp.address, port: sipp.port }, localAddress: OUR_ADDRESS });
    const record = await caller.placeCall({ ...CALL, ringTimeMs: 5000 }).done;
    const run = await sipp.result;
    expectScenarioPassed(run);
    expect(record).toMatchObject({ reason: "answered", finalCode: 200 });
    const [ack] = received(run, "ACK");
    expect(headerValues(ack!, "Content-Type")).toEqual(["application/sdp"]);
    expect(ack!.text).toMatch(/^m=audio 0 RTP\/AVP 0 8 101\r?$/m);
    expect(ack!.text).toMatch(new RegExp(`^c=IN IP4 ${OUR_ADDRESS.replaceAll(".", "\\.")}\r?$`, "m"));
    expect(received(run, "BYE")).toHaveLength(1);
  });
});
