/**
 * The flash-call channel over a real SIP exchange: the UAC's call reasons reach the attempt outcome unchanged,
 * `auth_failed` included (a trunk whose credentials are missing or wrong must not look like a network fault).
 */
import { afterEach, describe, expect, it } from "vitest";
import { createFlashcallSipChannel } from "../src/channels/flashcall-sip/index.js";
import type { AttemptOutcome, Channel } from "../src/core/ports.js";
import { SipUac } from "../src/sip/uac.js";
import { startSipp } from "./sipp/sipp.js";
import { commandExists, peerAvailable } from "./support/peers.js";

const available = peerAvailable("sipp", () => commandExists("sipp"));

let channel: Channel | undefined;
afterEach(async () => {
  await channel?.close();
  channel = undefined;
});

async function attemptAgainst(scenario: string): Promise<AttemptOutcome> {
  const sipp = await startSipp({ scenario, address: "127.0.0.21" });
  const uac = await SipUac.create({ target: { host: sipp.address, port: sipp.port } });
  channel = createFlashcallSipChannel({ uac, ringTimeMs: 100, maxDialMs: 5000 });
  const outcome = new Promise<AttemptOutcome>((resolve) => {
    channel?.send(
      { kind: "flashcall", attemptId: "a1", to: "+447400123456", cli: "+442079412345" },
      { ringing: () => {}, ended: resolve },
    );
  });
  const [result, run] = await Promise.all([outcome, sipp.result]);
  expect(run.exitCode).toBe(0);
  return result;
}

describe.skipIf(!available)("flash-call channel outcomes", () => {
  it("a challenge the trunk's credentials cannot answer ends the attempt auth_failed", async () => {
    expect(await attemptAgainst("uas-challenge-only.xml")).toMatchObject({
      delivered: false,
      reason: "auth_failed",
      sipCode: 407,
    });
  });

  it("a busy handset ends the attempt busy", async () => {
    expect(await attemptAgainst("uas-busy.xml")).toMatchObject({ delivered: false, reason: "busy", sipCode: 486 });
  });
});
