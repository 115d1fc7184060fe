/**
 * The sandbox's handsets answer voice calls: the handset negotiates the SDP offer, records the RTP it receives to a
 * WAV per call, and /sandbox/phones lists the call with its duration and a link to the recording. The recording is
 * checked as the interop test checks its capture: sox decodes it, and the test's own espeak-ng digits are aligned
 * against it; the code heard twice then verifies.
 */
import { afterEach, describe, expect, it } from "vitest";
import { commandExists, peerAvailable } from "./support/peers.js";
import { decodeWavWithSox, findDigits, renderDigitReferences } from "./support/speech-align.js";
import { auth, createTestApp, eventually, type TestApp } from "./support/test-app.js";

const available =
  peerAvailable("espeak-ng", () => commandExists("espeak-ng")) && peerAvailable("sox", () => commandExists("sox"));

describe.skipIf(!available)("sandbox handsets answer voice calls", () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it("records the call; its WAV says the code twice, and the code verifies", async () => {
    t = await createTestApp({
      SANDBOX_SIP_ADDRESS: "127.0.0.143",
      SIP_LOCAL_ADDRESS: "127.0.0.144",
      VOICE_RTP_PORTS: "41000-41999",
      VOICE_LISTEN_MS: "500",
    });
    const { app } = t;
    const phone = "+447400123456";
    const started = await app.inject({
      method: "POST",
      url: "/v1/verifications",
      headers: auth(),
      payload: { phone, workflow: [{ channel: "voice" }] },
    });
    expect(started.statusCode, started.body).toBe(201);
    const id = started.json().id as string;

    const attempt = await eventually(async () => {
      const res = await app.inject({ method: "GET", url: `/v1/verifications/${id}`, headers: auth() });
      const a = res.json().attempts[0];
      return a?.ended_at ? a : undefined;
    }, 60_000);
    expect(attempt).toMatchObject({ channel: "voice", status: "delivered", reason: "delivered", sip_code: 200 });
    // One started minute at the GB voice rate.
    expect(attempt.cost).toBe(0.03);

    const call = await eventually(async () => {
      const res = await app.inject({ method: "GET", url: `/sandbox/phones/${encodeURIComponent(phone)}` });
      const c = res.json().calls[0];
      return c?.voice?.recording ? c : undefined;
    }, 5000);
    expect(call).toMatchObject({ from: "+442079460000", result: "answered", voice: { codec: "PCMU" } });
    expect(call.voice.duration_ms).toBeGreaterThan(10_000);

    const wav = await app.inject({ method: "GET", url: call.voice.recording });
    expect(wav.statusCode).toBe(200);
    expect(wav.headers["content-type"]).toBe("audio/wav");
    const audio = decodeWavWithSox(wav.rawPayload);
    // The recording lasts as long as the handset says the call did (within two packets).
    expect(Math.abs((audio.length / 8000) * 1000 - call.voice.duration_ms)).toBeLessThan(1000);

    const found = findDigits(audio, renderDigitReferences("en"), 0.9);
    const digits = found.map((f) => f.digit).join("");
    console.log(`[sandbox voice] digits found: ${found.map((f) => `${f.digit}@${f.at.toFixed(2)}s`).join(" ")}`);
    expect(digits).toHaveLength(12);
    const code = digits.slice(0, 6);
    expect(digits).toBe(code + code);

    const checked = await app.inject({
      method: "POST",
      url: `/v1/verifications/${id}/check`,
      headers: auth(),
      payload: { code },
    });
    expect(checked.json()).toMatchObject({ status: "verified" });

    const missing = await app.inject({
      method: "GET",
      url: `/sandbox/phones/${encodeURIComponent(phone)}/recordings/nope.wav`,
    });
    expect(missing.statusCode).toBe(404);
  }, 150_000);
});
