/**
 * Voice prompts per application (issue 19): an application's Spanish voice template is what the call to a Spanish
 * number says. The sandbox's handset answers and records the call; the test renders the template's phrase and the
 * shipped default with its own espeak-ng and aligns both against the recording (decoded by sox): the template's
 * intro is there, the default's is not, and the code's digits follow it, twice; also when a call before the template
 * had already played the shipped phrases.
 */
import { afterEach, describe, expect, it } from "vitest";
import { commandExists, peerAvailable } from "./support/peers.js";
import { decodeWavWithSox, findDigits, renderDigitReferences, renderPhraseReference } from "./support/speech-align.js";
import { auth, createTestApp, eventually, type TestApp } from "./support/test-app.js";

const available =
  peerAvailable("espeak-ng", () => commandExists("espeak-ng")) && peerAvailable("sox", () => commandExists("sox"));

const TEMPLATE = {
  intro: "Hola, la clave de {app} es",
  again: "Otra vez, la clave es",
  menu: "Para oírla de nuevo, pulse uno.",
};

describe.skipIf(!available)("a voice template", () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it("is what the call to a Spanish number says, in place of the shipped phrases", async () => {
    t = await createTestApp({
      SANDBOX_SIP_ADDRESS: "127.0.17.20",
      SIP_LOCAL_ADDRESS: "127.0.17.21",
      VOICE_RTP_PORTS: "43300-43399",
      VOICE_LISTEN_MS: "500",
      OTP_APP_NAME: "Acme",
    });
    const { app } = t;
    const recorded = (phone: string) =>
      eventually(async () => {
        const res = await app.inject({ method: "GET", url: `/sandbox/phones/${encodeURIComponent(phone)}` });
        const c = res.json().calls[0];
        return c?.voice?.recording ? c : undefined;
      }, 60_000);

    // A call before the template exists: the shipped Spanish phrases reach the trunk's media thread first, which
    // keeps every clip it is sent for later calls.
    const earlier = await app.inject({
      method: "POST",
      url: "/v1/verifications",
      headers: auth(),
      payload: { phone: "+34612345679", workflow: [{ channel: "voice" }] },
    });
    expect(earlier.statusCode, earlier.body).toBe(201);
    await recorded("+34612345679");

    const saved = await app.inject({
      method: "PUT",
      url: "/v1/templates/voice/es",
      headers: auth(),
      payload: TEMPLATE,
    });
    expect(saved.statusCode, saved.body).toBe(200);
    expect(saved.json()).toMatchObject({ source: "application", ...TEMPLATE });
    expect(saved.json().preview.text).toMatch(/^Hola, la clave de Acme es \d( \d)+\. Otra vez, la clave es/);

    // A Spanish number, no locale: Spanish.
    const phone = "+34612345678";
    const started = await app.inject({
      method: "POST",
      url: "/v1/verifications",
      headers: auth(),
      payload: { phone, workflow: [{ channel: "voice" }] },
    });
    expect(started.statusCode, started.body).toBe(201);
    const call = await recorded(phone);
    const wav = await app.inject({ method: "GET", url: call.voice.recording });
    const audio = decodeWavWithSox(wav.rawPayload);

    const intro = renderPhraseReference("es", TEMPLATE.intro.replace("{app}", "Acme"));
    const shipped = renderPhraseReference("es", "Su código de verificación es");
    const [heard] = findDigits(audio, [intro], 0.9);
    expect(heard?.at, "the template's intro").toBeLessThan(2);
    expect(findDigits(audio, [shipped], 0.9), "the shipped intro").toEqual([]);

    // The code follows, digit by digit, twice: the call still says the code the check accepts.
    const digits = findDigits(audio, renderDigitReferences("es"), 0.9).filter((d) => d.at > (heard?.at ?? 0));
    const code = digits
      .slice(0, 6)
      .map((d) => d.digit)
      .join("");
    expect(
      digits
        .slice(6, 12)
        .map((d) => d.digit)
        .join(""),
    ).toBe(code);
    const id = started.json().id as string;
    const checked = await app.inject({
      method: "POST",
      url: `/v1/verifications/${id}/check`,
      headers: auth(),
      payload: { code },
    });
    expect(checked.json().status).toBe("verified");
  }, 150_000);
});
