/**
 * Interop: Kamailio as the carrier's edge (stateful t_relay, digest auth required) in front of the sandbox
 * handsets. Our flash calls pass through it, answer its 407 and land on the handsets as missed calls with our CLI.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VirtualHandsets } from "../src/sandbox/handsets.js";
import type { FlashCaller, SipUacOptions } from "../src/sip/types.js";
import { SipUac } from "../src/sip/uac.js";
import { startSipUacWorker } from "../src/sip/uac-worker.js";
import { type KamailioProcess, startKamailio } from "./kamailio/kamailio.js";
import { commandExists, peerAvailable } from "./support/peers.js";

const available = peerAvailable("kamailio", () => commandExists("kamailio"));
const EDGE_ADDRESS = "127.0.0.30";
const HANDSETS_ADDRESS = "127.0.0.31";
const CLI = "+442079412345";
const CREDENTIALS = { username: "flash", password: "s3cret" };

describe.skipIf(!available)("flash calls through Kamailio with digest auth", () => {
  let handsets: VirtualHandsets;
  let edge: KamailioProcess;

  beforeAll(async () => {
    handsets = await VirtualHandsets.create({ address: HANDSETS_ADDRESS, port: 0 });
    edge = await startKamailio({
      address: EDGE_ADDRESS,
      handsets: `sip:${handsets.local.address}:${handsets.local.port}`,
    });
  });

  afterAll(async () => {
    await edge?.stop();
    await handsets?.close();
  });

  const options = (extra: Partial<SipUacOptions> = {}): SipUacOptions => ({
    target: { host: edge.address, port: edge.port },
    domain: "carrier.test",
    localAddress: "127.0.0.32",
    credentials: CREDENTIALS,
    ...extra,
  });
  const challenges = () => edge.log.match(/challenge \S+ \(/g)?.length ?? 0;
  /** Kamailio's log arrives through a pipe: wait until it shows `count` challenges (or `waitMs`), then read it. */
  const challengesOnceAt = async (count: number, waitMs = 2000) => {
    for (let i = 0; i < waitMs / 50 && challenges() < count; i++) await new Promise((r) => setTimeout(r, 50));
    return challenges();
  };

  it.each([
    ["SipUac over UDP", (o: SipUacOptions): Promise<FlashCaller> => SipUac.create(o), "udp", "+447400123401"],
    ["the worker over UDP", (o: SipUacOptions): Promise<FlashCaller> => startSipUacWorker(o), "udp", "+447400123402"],
    ["SipUac over TCP", (o: SipUacOptions): Promise<FlashCaller> => SipUac.create(o), "tcp", "+447400123403"],
  ] as const)(
    "%s: answers the 407, the handset sees our CLI, later calls pass pre-emptively",
    async (_, start, transport, to) => {
      const caller = await start(options({ transport }));
      try {
        const before = challenges();
        const first = await caller.placeCall({ to, cli: CLI, ringTimeMs: 100, maxDialMs: 5000 }).done;
        expect(first).toMatchObject({ reason: "ringing_canceled", finalCode: 487 });
        expect(await challengesOnceAt(before + 1)).toBe(before + 1);
        // One after another: Kamailio refuses an nc lower than one it has seen, and concurrent requests may overtake.
        const records = [];
        for (const n of [1, 2, 3]) {
          records.push(await caller.placeCall({ to, cli: `+44207941234${n}`, ringTimeMs: 50, maxDialMs: 5000 }).done);
        }
        expect(records.map((r) => r.reason)).toEqual(["ringing_canceled", "ringing_canceled", "ringing_canceled"]);
        // Kamailio checks nonce counts: the same nonce with nc 2, 3, 4 passed without another challenge.
        expect(await challengesOnceAt(before + 2, 500)).toBe(before + 1);
        const calls = handsets.calls(to);
        expect(calls.map((c) => [c.from, c.result])).toEqual(
          expect.arrayContaining([
            [CLI, "missed"],
            ["+442079412341", "missed"],
            ["+442079412342", "missed"],
            ["+442079412343", "missed"],
          ]),
        );
        expect(calls).toHaveLength(4);
      } finally {
        await caller.close();
      }
    },
  );

  it("a wrong password ends auth_failed after one answer; nothing reaches the handset", async () => {
    const to = "+447400123409";
    const caller = await SipUac.create(options({ credentials: { username: "flash", password: "wrong" } }));
    try {
      const before = challenges();
      const record = await caller.placeCall({ to, cli: CLI, ringTimeMs: 100, maxDialMs: 5000 }).done;
      expect(record).toMatchObject({ reason: "auth_failed", finalCode: 407, ringingAt: null });
      expect(await challengesOnceAt(before + 2)).toBe(before + 2);
      expect(handsets.calls(to)).toEqual([]);
    } finally {
      await caller.close();
    }
  });

  it("answers an OPTIONS probe", async () => {
    const caller = await SipUac.create(options());
    try {
      expect(await caller.probe(2000)).toBe(200);
    } finally {
      await caller.close();
    }
  });
});
