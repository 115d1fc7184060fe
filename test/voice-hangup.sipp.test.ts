/**
 * A voice call is ended when its verification ends first (issue 19): canceled while the phone rings, the call gets a
 * CANCEL (SIPp, playing a phone that rings until cancelled, checks it arrives and answers 487); canceled while the
 * prompt plays, it gets a BYE (the sandbox's handset, which records the call, shows it stopped after a few seconds,
 * not after the whole prompt). Either way the attempt is recorded `verification_ended`, saying how it was ended.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startSipp } from "./sipp/sipp.js";
import { commandExists, peerAvailable } from "./support/peers.js";
import { auth, createTestApp, eventually, type TestApp } from "./support/test-app.js";

const available =
  peerAvailable("sipp", () => commandExists("sipp")) && peerAvailable("espeak-ng", () => commandExists("espeak-ng"));

const SERVER = "127.0.17.10";
const CARRIER = "127.0.17.11";
const SANDBOX_PHONES = "127.0.17.12";
const SANDBOX_SERVER = "127.0.17.13";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read field by field and asserted, not trusted
type Json = Record<string, any>;

async function startVoice(t: TestApp, phone: string): Promise<string> {
  const started = await t.app.inject({
    method: "POST",
    url: "/v1/verifications",
    headers: auth(),
    payload: { phone, workflow: [{ channel: "voice" }] },
  });
  expect(started.statusCode, started.body).toBe(201);
  return started.json().id as string;
}

const read = async (t: TestApp, id: string): Promise<Json> =>
  (await t.app.inject({ url: `/v1/verifications/${id}`, headers: auth() })).json();

const cancel = (t: TestApp, id: string) =>
  t.app.inject({ method: "POST", url: `/v1/verifications/${id}/cancel`, headers: auth() });

const ended = (t: TestApp, id: string) =>
  eventually(async () => {
    const v = await read(t, id);
    return v.attempts[0]?.ended_at ? v : undefined;
  }, 20_000);

describe.skipIf(!available)("voice calls of a verification that ended", () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it("are cancelled while they ring: CANCEL, 487, and the attempt says why", async () => {
    const sipp = await startSipp({ scenario: "uas-ring-cancel.xml", address: CARRIER, timeoutSeconds: 30 });
    t = await createTestApp({
      SANDBOX: "off",
      POOL_NUMBERS: "+4420794xxxxx",
      SIP_LOCAL_ADDRESS: SERVER,
      SIP_TRUNKS: JSON.stringify([{ id: "carrier", host: sipp.address, port: sipp.port }]),
      VOICE_CALLER_ID: "+442079460000",
      VOICE_RTP_PORTS: "43100-43199",
    });
    const id = await startVoice(t, "+447400123456");
    // The phone rings (SIPp's 180): the attempt shows it.
    await eventually(
      async () => ((await read(t as TestApp, id)).attempts[0]?.status === "ringing" ? true : undefined),
      20_000,
    );
    expect((await cancel(t, id)).json().status).toBe("canceled");

    const run = await sipp.result;
    expect({ exitCode: run.exitCode, successful: run.successful, errors: run.errors }).toEqual({
      exitCode: 0,
      successful: 1,
      errors: "",
    });
    expect(run.messages.some((m) => m.direction === "received" && m.startLine.startsWith("CANCEL"))).toBe(true);
    const v = await ended(t, id);
    expect(v.status).toBe("canceled");
    expect(v.attempts[0]).toMatchObject({
      channel: "voice",
      status: "failed",
      reason: "verification_ended",
      sip_code: 487,
      detail: "hung up while it rang (CANCEL)",
      cost: 0,
    });
  }, 60_000);

  it("are hung up while the prompt plays: BYE after a few seconds, not after the whole prompt", async () => {
    t = await createTestApp({
      SANDBOX_SIP_ADDRESS: SANDBOX_PHONES,
      SIP_LOCAL_ADDRESS: SANDBOX_SERVER,
      VOICE_RTP_PORTS: "43200-43299",
    });
    const phone = "+447400123456";
    const id = await startVoice(t, phone);
    const handset = async () =>
      (await (t as TestApp).app.inject({ url: `/sandbox/phones/${encodeURIComponent(phone)}` })).json().calls[0];
    await eventually(async () => ((await handset())?.result === "answered" ? true : undefined), 20_000);
    // Two seconds into the prompt (a full one, said twice and offered again, lasts well over ten).
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect((await cancel(t, id)).json().status).toBe("canceled");

    const v = await ended(t, id);
    expect(v.attempts[0]).toMatchObject({
      channel: "voice",
      status: "failed",
      reason: "verification_ended",
      sip_code: 200,
    });
    expect(v.attempts[0].detail).toMatch(/^hung up \(BYE\): codec=PCMU played_ms=\d+ dtmf=- replays=0$/);
    const played = Number(/played_ms=(\d+)/.exec(v.attempts[0].detail)?.[1]);
    expect(played).toBeGreaterThan(1000);
    expect(played).toBeLessThan(8000);
    // The handset's recording ended with our BYE.
    const call = await eventually(async () => {
      const c = await handset();
      return c?.voice?.recording ? c : undefined;
    }, 5000);
    expect(call.voice.duration_ms).toBeGreaterThan(1000);
    expect(call.voice.duration_ms).toBeLessThan(8000);
  }, 60_000);
});
