/**
 * Interop: voice OTP end to end, against SIPp answering as the phone. The server places the call over its trunk,
 * SIPp answers with SDP naming the test's own RTP socket, and the test checks what it hears with tools it owns:
 * the RTP stream's numbering (RFC 3550), sox decoding the G.711, and its own espeak-ng rendering of each digit
 * aligned against the capture (never the server's cached clips). The digits heard, twice and in order, are then
 * typed into the check endpoint, which verifies: they were the code. DTMF "1" (RFC 4733) makes the code play
 * again. pocketsphinx's transcription is printed for information only.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type SippResult, startSipp } from "./sipp/sipp.js";
import { commandExists, peerAvailable } from "./support/peers.js";
import { endsInSilence, RtpPeer, streamProblems } from "./support/rtp-peer.js";
import {
  decodeG711WithSox,
  type FoundDigit,
  findDigits,
  pocketsphinxDigits,
  renderDigitReferences,
} from "./support/speech-align.js";
import { auth, createTestApp, eventually, type TestApp } from "./support/test-app.js";

const available =
  peerAvailable("sipp", () => commandExists("sipp")) &&
  peerAvailable("espeak-ng", () => commandExists("espeak-ng")) &&
  peerAvailable("sox", () => commandExists("sox")) &&
  peerAvailable("pocketsphinx", () => commandExists("pocketsphinx_continuous"));

const SERVER = "127.0.0.140";
const PHONE_MEDIA = "127.0.0.141";
const CARRIER = "127.0.0.142";

/** The digits found, split into runs separated by more than a second (one run per time the code was said). */
function runs(found: readonly FoundDigit[]): string[] {
  const out: string[] = [];
  let last = -10;
  for (const f of found) {
    if (f.at - last > 1.6) out.push("");
    out[out.length - 1] += f.digit;
    last = f.at;
  }
  return out;
}

interface VoiceRun {
  t: TestApp;
  id: string;
  peer: RtpPeer;
  sipp: SippResult;
}

/**
 * Starts a voice verification to `phone` through SIPp playing `scenario` (with digest credentials for the trunk
 * when `credentials`); presses 1 once the menu has passed.
 */
async function placeVoiceOtp(scenario: string, phone: string, credentials = false): Promise<VoiceRun> {
  const peer = await RtpPeer.open(PHONE_MEDIA);
  const sipp = await startSipp({
    scenario,
    address: CARRIER,
    timeoutSeconds: 90,
    extraArgs: ["-key", "rtp_ip", peer.address, "-key", "rtp_port", String(peer.port)],
  });
  const t = await createTestApp({
    SANDBOX: "off",
    POOL_NUMBERS: "+4420794xxxxx",
    SIP_LOCAL_ADDRESS: SERVER,
    SIP_TRUNKS: JSON.stringify([
      {
        id: "carrier",
        host: sipp.address,
        port: sipp.port,
        ...(credentials ? { auth: { username: "flash", password: "s3cret" } } : {}),
      },
    ]),
    VOICE_CALLER_ID: "+442079460000",
    VOICE_RTP_PORTS: "40000-40999",
    VOICE_LISTEN_MS: "3000",
    VOICE_MAX_REPLAYS: "1",
  });
  const started = await t.app.inject({
    method: "POST",
    url: "/v1/verifications",
    headers: auth(),
    payload: { phone, workflow: [{ channel: "voice" }] },
  });
  expect(started.statusCode, started.body).toBe(201);
  const id = started.json().id as string;
  // The menu is followed by silence while the line waits for a key: press 1 there, once.
  await eventually(
    () =>
      peer.packets.length > 400 && endsInSilence(peer.packets, peer.packets[0]?.payloadType ?? 0, 1500)
        ? true
        : undefined,
    60_000,
  );
  await peer.pressKey(1);
  const run = await sipp.result;
  return { t, id, peer, sipp: run };
}

describe.skipIf(!available)("voice OTP: a phone that hangs up before the code ends", () => {
  let t: TestApp | undefined;
  let peer: RtpPeer | undefined;
  afterEach(async () => {
    await t?.close();
    await peer?.close();
    t = undefined;
    peer = undefined;
  });

  it("records hung_up_early with what was played, and the workflow ends its step at once", async () => {
    peer = await RtpPeer.open(PHONE_MEDIA);
    const sipp = await startSipp({
      scenario: "uas-voice-hangup.xml",
      address: CARRIER,
      timeoutSeconds: 30,
      extraArgs: ["-key", "rtp_ip", peer.address, "-key", "rtp_port", String(peer.port)],
    });
    t = await createTestApp({
      SANDBOX: "off",
      POOL_NUMBERS: "+4420794xxxxx",
      SIP_LOCAL_ADDRESS: SERVER,
      SIP_TRUNKS: JSON.stringify([{ id: "carrier", host: sipp.address, port: sipp.port }]),
      VOICE_CALLER_ID: "+442079460000",
      VOICE_RTP_PORTS: "40000-40999",
    });
    const started = await t.app.inject({
      method: "POST",
      url: "/v1/verifications",
      headers: auth(),
      payload: { phone: "+447400123456", workflow: [{ channel: "voice" }] },
    });
    expect(started.statusCode, started.body).toBe(201);
    const id = started.json().id as string;
    const run = await sipp.result;
    expect({ exitCode: run.exitCode, successful: run.successful }).toEqual({ exitCode: 0, successful: 1 });
    const v = await eventually(async () => {
      const res = await t?.app.inject({ method: "GET", url: `/v1/verifications/${id}`, headers: auth() });
      const body = res?.json();
      return body?.attempts[0]?.ended_at ? body : undefined;
    }, 10_000);
    expect(v.attempts[0]).toMatchObject({ channel: "voice", status: "failed", reason: "hung_up_early", sip_code: 200 });
    expect(v.attempts[0].detail).toMatch(/^codec=PCMU played_ms=\d+ dtmf=- replays=0$/);
    // About three seconds of audio went out before the phone hung up: the intro, not the code.
    expect(peer.packets.length).toBeGreaterThan(100);
    expect(peer.packets.length).toBeLessThan(250);
    expect(v.status).toBe("failed");
  }, 60_000);
});

describe.skipIf(!available)("voice OTP against SIPp answering", () => {
  let current: VoiceRun | undefined;
  afterEach(async () => {
    await current?.t.close();
    await current?.peer.close();
    current = undefined;
  });

  async function expectSpokenCode(run: VoiceRun, voice: string, codec: "PCMU" | "PCMA") {
    const { t, id, peer, sipp } = run;
    expect({ exitCode: sipp.exitCode, successful: sipp.successful, failed: sipp.failed }).toEqual({
      exitCode: 0,
      successful: 1,
      failed: 0,
    });
    const invite = sipp.messages.find(
      (m) => m.direction === "received" && m.startLine.startsWith("INVITE") && m.text.includes("m=audio"),
    );
    expect(invite?.text).toMatch(/m=audio \d+ RTP\/AVP 0 8 101/);
    expect(invite?.text).toContain("a=rtpmap:101 telephone-event/8000");

    const payloadType = codec === "PCMU" ? 0 : 8;
    expect(streamProblems(peer.packets, payloadType)).toEqual([]);
    const capture = decodeG711WithSox(peer.audio(payloadType), codec);
    const found = findDigits(capture, renderDigitReferences(voice), 0.9);
    const said = runs(found);
    console.log(
      `[voice ${voice} ${codec}] digits found: ${found.map((f) => `${f.digit}@${f.at.toFixed(2)}s(${f.score.toFixed(2)})`).join(" ")}`,
    );
    // The first time the code is said, with what leads into it (the whole call would only take longer).
    const first = capture.subarray(0, Math.round(((found[5]?.at ?? 8) + 1) * 8000));
    console.log(
      `[voice ${voice} ${codec}] pocketsphinx, first saying (information only): ${pocketsphinxDigits(first) || "(nothing)"}`,
    );
    // Twice, then twice again after the key press.
    expect(said).toHaveLength(4);
    const code = said[0] as string;
    expect(code).toMatch(/^\d{6}$/);
    expect(said).toEqual([code, code, code, code]);

    const attempt = await eventually(async () => {
      const res = await t.app.inject({ method: "GET", url: `/v1/verifications/${id}`, headers: auth() });
      const a = res.json().attempts[0];
      return a?.ended_at ? a : undefined;
    }, 10_000);
    expect(attempt).toMatchObject({ channel: "voice", status: "delivered", reason: "delivered", sip_code: 200 });
    expect(attempt.detail).toContain(`codec=${codec}`);
    expect(attempt.detail).toContain("dtmf=1 replays=1");

    const checked = await t.app.inject({
      method: "POST",
      url: `/v1/verifications/${id}/check`,
      headers: auth(),
      payload: { code },
    });
    expect(checked.json()).toMatchObject({ status: "verified" });
  }

  it("says the code twice in English over PCMU, again after DTMF 1, and the heard code verifies", async () => {
    current = await placeVoiceOtp("uas-voice-answer.xml", "+447400123456");
    await expectSpokenCode(current, "en", "PCMU");
  }, 180_000);

  it("through a digest-auth trunk: a Spanish number hears Spanish over PCMA (the answer's first choice)", async () => {
    current = await placeVoiceOtp("uas-voice-digest.xml", "+34612345678", true);
    await expectSpokenCode(current, "es", "PCMA");
  }, 180_000);
});
