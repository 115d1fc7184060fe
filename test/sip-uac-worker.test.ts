/**
 * The worker-backed FlashCaller's own contract: what crossing a thread must not change (synchronous validation,
 * the Call-ID known at once, onRinging before `done`, cancel) and its life cycle (close() ends the thread and lets
 * the process exit; a thread that dies settles its pending calls `network_error`). SIP itself is SipUac's and is
 * tested in src/sip/uac.test.ts; sip-handsets and sip-uac.sipp run their cases through the worker too.
 */
import { spawn } from "node:child_process";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CallRecord, PlaceCallOptions } from "../src/sip/types.js";
import { type SipUacWorker, startSipUacWorker } from "../src/sip/uac-worker.js";
import { RawPeer, sleep } from "./sipp/raw-peer.js";

const PEER_ADDRESS = "127.0.0.6";
const CALL: PlaceCallOptions = { to: "+447400123456", cli: "+442079412345", ringTimeMs: 60_000, maxDialMs: 5000 };

let peer: RawPeer;
let caller: SipUacWorker;

beforeEach(async () => {
  peer = await RawPeer.create(PEER_ADDRESS);
  caller = await startSipUacWorker({ target: { host: PEER_ADDRESS, port: peer.port }, t1Ms: 20 });
});

afterEach(async () => {
  await caller.close();
  await peer.close();
});

describe("startSipUacWorker", () => {
  it("throws for numbers that are not E.164 on the calling thread", () => {
    expect(() => caller.placeCall({ ...CALL, to: "07400123456" })).toThrow(RangeError);
    expect(() => caller.placeCall({ ...CALL, cli: "+44\r\nX: y" })).toThrow(RangeError);
    expect(caller.activeCalls).toBe(0);
  });

  it("names the call at once, reports the ring before the record, and cancels in the worker", async () => {
    const events: string[] = [];
    const call = caller.placeCall({ ...CALL, onRinging: () => events.push("ringing") });
    void call.done.then(() => events.push("done"));
    expect(caller.activeCalls).toBe(1);
    const invite = await peer.next("INVITE");
    expect(invite.msg.callId).toBe(call.callId);
    peer.respond(invite, 180, "Ringing", { toTag: "h" });
    while (events.length === 0) await sleep(5);
    call.cancel();
    call.cancel(); // once is enough
    peer.respond(await peer.next("CANCEL"), 200, "OK", { toTag: "h" });
    peer.respond(invite, 487, "Request Terminated", { toTag: "h" });
    const record = await call.done;
    expect(record).toMatchObject({ callId: call.callId, reason: "ringing_canceled", finalCode: 487 });
    expect(events).toEqual(["ringing", "done"]);
    expect(peer.count("CANCEL")).toBe(1);
    expect(caller.activeCalls).toBe(0);
  });

  it("survives an onRinging callback that throws", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on("warning", onWarning);
    try {
      const call = caller.placeCall({
        ...CALL,
        ringTimeMs: 10,
        onRinging: () => {
          throw new Error("listener bug");
        },
      });
      const invite = await peer.next("INVITE");
      peer.respond(invite, 180, "Ringing", { toTag: "h" });
      peer.respond(await peer.next("CANCEL"), 200, "OK", { toTag: "h" });
      peer.respond(invite, 487, "Request Terminated", { toTag: "h" });
      expect(await call.done).toMatchObject({ reason: "ringing_canceled" });
      await sleep(10);
      expect(warnings).toContain("onRinging callback threw: listener bug");
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("close() cancels open calls in the worker and settles them by what they showed", async () => {
    let rang = false;
    const ringing = caller.placeCall({ ...CALL, onRinging: () => (rang = true) });
    const silent = caller.placeCall({ ...CALL, to: "+447400123457" });
    const invites = [await peer.next("INVITE"), await peer.next("INVITE")];
    const ringingInvite = invites.find((r) => r.msg.callId === ringing.callId)!;
    peer.respond(ringingInvite, 180, "Ringing", { toTag: "h" });
    while (!rang) await sleep(5);
    await caller.close();
    expect(await ringing.done).toMatchObject({ reason: "ringing_canceled", finalCode: null });
    expect(await silent.done).toMatchObject({ reason: "timeout", finalCode: null, ringingAt: null });
    expect((await peer.next("CANCEL")).msg.callId).toBe(ringing.callId);
    expect(caller.activeCalls).toBe(0);
    expect(() => caller.placeCall(CALL)).toThrow(/closed/);
    await caller.close(); // idempotent
  });

  it("settles pending calls network_error when the thread dies, and refuses new calls", async () => {
    const errors: Error[] = [];
    const doomed = await startSipUacWorker({
      target: { host: PEER_ADDRESS, port: peer.port },
      onError: (e) => errors.push(e),
    });
    let rang = false;
    const call = doomed.placeCall({ ...CALL, onRinging: () => (rang = true) });
    peer.respond(await peer.next("INVITE"), 180, "Ringing", { toTag: "h" });
    while (!rang) await sleep(5);
    await doomed.terminate();
    const record: CallRecord = await call.done;
    expect(record).toMatchObject({ callId: call.callId, reason: "network_error", finalCode: null });
    expect(record.ringingAt).not.toBeNull(); // what this thread had heard before the thread died
    expect(doomed.activeCalls).toBe(0);
    expect(() => doomed.placeCall(CALL)).toThrow();
    expect(errors).toEqual([]); // terminate() is deliberate; a crash would be reported here
    await doomed.close();
  });

  it("rejects start-up errors as SipUac.create would: RangeError, bind errors with their code", async () => {
    const target = { host: PEER_ADDRESS, port: peer.port };
    await expect(startSipUacWorker({ target, domain: "a b" })).rejects.toThrow(RangeError);
    await expect(startSipUacWorker({ target, localAddress: "192.0.2.1" })).rejects.toMatchObject({
      code: "EADDRNOTAVAIL",
    });
    await expect(startSipUacWorker({ target, now: Date.now } as never)).rejects.toThrow(TypeError);
  });
});

describe("the SIP worker thread's life", () => {
  it("ends with close(): a process that places a call and closes exits by itself", async () => {
    const here = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
    // The child runs the TypeScript sources as this test does, through the loader the worker itself uses.
    const script = `
      import { register } from "node:module";
      register(${here("../src/sip/worker-ts-loader.mjs")});
      const { startSipUacWorker } = await import(${here("../src/sip/uac-worker.ts")});
      const { VirtualHandsets } = await import(${here("../src/sandbox/handsets.ts")});
      const handsets = await VirtualHandsets.create({ address: "127.0.0.7", port: 0 });
      const caller = await startSipUacWorker({ target: { host: "127.0.0.7", port: handsets.local.port } });
      const call = caller.placeCall({ to: "+447400123456", cli: "+442079412345", ringTimeMs: 20, maxDialMs: 2000 });
      const record = await call.done;
      await caller.close();
      await handsets.close();
      console.log(JSON.stringify(record));`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exit = new Promise<number | null>((resolve) => child.on("exit", resolve));
    const timer = setTimeout(() => child.kill(), 15_000);
    const code = await exit;
    clearTimeout(timer);
    expect({ code, output }).toMatchObject({ code: 0 });
    expect(JSON.parse(output.trim().split("\n").at(-1)!)).toMatchObject({ reason: "ringing_canceled", finalCode: 487 });
  });
});
