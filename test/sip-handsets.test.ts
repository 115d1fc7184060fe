/**
 * Our UAC against our virtual handsets, for every test number: the sandbox's end-to-end path. A quick sanity check
 * only — both sides are ours, so interop is proved against SIPp in sip-uac.sipp.test.ts. The same suite runs for
 * every FlashCaller: SipUac on the test's thread and the worker-backed caller.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HandsetCall, VirtualHandsets } from "../src/sandbox/handsets.js";
import type { FlashCaller, SipUacOptions } from "../src/sip/types.js";
import { SipUac } from "../src/sip/uac.js";
import { startSipUacWorker } from "../src/sip/uac-worker.js";

const CLI = "+442079412345";

const callers: [string, (options: SipUacOptions) => Promise<FlashCaller>][] = [
  ["SipUac", (options) => SipUac.create(options)],
  ["the SIP worker thread", (options) => startSipUacWorker(options)],
];

describe.each(callers)("%s calling VirtualHandsets", (_name, start) => {
  let handsets: VirtualHandsets;
  let uac: FlashCaller;
  const incoming: string[] = [];

  beforeAll(async () => {
    handsets = await VirtualHandsets.create({ port: 0, onIncomingCall: (c: HandsetCall) => incoming.push(c.to) });
    uac = await start({
      target: { host: handsets.local.address, port: handsets.local.port },
      t1Ms: 50,
      // The same process answers: when a loaded machine stalls this thread for half a second, the handsets' 100s sit
      // unread while Timer B expires. 2 s keeps the silent-handset case short and outlasts such stalls.
      timerBMs: 2000,
    });
  });

  afterAll(async () => {
    await uac.close();
    await handsets.close();
  });

  it.each([
    ["+447400123456", { reason: "ringing_canceled", finalCode: 487 }, "missed", true],
    ["+447400120486", { reason: "busy", finalCode: 486 }, "busy", false],
    ["+447400120404", { reason: "not_found", finalCode: 404 }, "not_found", false],
    ["+447400120408", { reason: "timeout", finalCode: null }, "no_answer", false],
    ["+447400120200", { reason: "answered", finalCode: 200 }, "answered", true],
  ] as const)("%s → %o, handset result %s", async (to, expected, result, rings) => {
    let ringingAt: number | null = null;
    const call = uac.placeCall({ to, cli: CLI, ringTimeMs: 50, maxDialMs: 2000, onRinging: (at) => (ringingAt = at) });
    const record = await call.done;
    expect(record).toMatchObject({ callId: call.callId, ...expected });
    expect(record.ringingAt).toBe(rings ? ringingAt : null);
    expect(handsets.calls(to)).toMatchObject([{ callId: call.callId, to, from: CLI, result }]);
    expect(incoming.includes(to)).toBe(rings);
  });

  it("hangs up a phone that answers while we cancel at once (ringTimeMs 0)", async () => {
    const record = await uac.placeCall({ to: "+447400990200", cli: CLI, ringTimeMs: 0, maxDialMs: 2000 }).done;
    expect(record).toMatchObject({ reason: "answered", finalCode: 200 });
  });

  it("places 500 concurrent flash calls, each seen with its own caller ID", async () => {
    const calls = Array.from({ length: 500 }, (_, i) => {
      const to = `+4474005${String(i).padStart(4, "0")}1`; // never a test-number suffix
      const cli = `+4420794${String(i).padStart(5, "0")}`;
      return { to, cli, call: uac.placeCall({ to, cli, ringTimeMs: 20, maxDialMs: 2000 }) };
    });
    expect(uac.activeCalls).toBe(500);
    const records = await Promise.all(calls.map((c) => c.call.done));
    expect(records.every((r) => r.reason === "ringing_canceled")).toBe(true);
    for (const { to, cli, call } of calls) {
      expect(handsets.calls(to)).toMatchObject([{ callId: call.callId, from: cli, result: "missed" }]);
    }
    expect(uac.activeCalls).toBe(0);
  });

  // Regression (found under load): a call cancelled while the handset's 100 and 180 were still unread was recorded
  // `timeout`, and onRinging never ran. Every handset here rings at once, so every call must end ringing_canceled.
  it("keeps the ring of calls cancelled before their 100/180 were read", async () => {
    const calls = Array.from({ length: 300 }, (_, i) => {
      let rang: number | null = null;
      const to = `+4474006${String(i).padStart(4, "0")}1`;
      const call = uac.placeCall({ to, cli: CLI, ringTimeMs: 60_000, maxDialMs: 2000, onRinging: (at) => (rang = at) });
      if (i % 3 === 0)
        call.cancel(); // before anything can have been read
      else setTimeout(() => call.cancel(), i % 3);
      return { call, rang: () => rang };
    });
    const records = await Promise.all(calls.map((c) => c.call.done));
    expect(records.filter((r) => r.reason !== "ringing_canceled" || r.finalCode !== 487)).toEqual([]);
    expect(calls.filter((c, i) => c.rang() === null || c.rang() !== records[i]!.ringingAt)).toEqual([]);
  });
});
