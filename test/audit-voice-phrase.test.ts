/**
 * An application's voice template is text espeak-ng speaks, given on its command line. A phrase that looks like an
 * option (`-f<file>`) must be spoken as written, not taken as one: `-f` would read a file of the server's and say it
 * into the call (and into the sandbox handset's recording), for anyone with an API key to set a template.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SpeechClips } from "../src/channels/voice/speech.js";
import { commandExists, peerAvailable } from "./support/peers.js";

const available =
  peerAvailable("espeak-ng", () => commandExists("espeak-ng")) && peerAvailable("sox", () => commandExists("sox"));
const SECRET = "the database password is swordfish";
const samples = (a: Int16Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe.skipIf(!available)("voice template phrases on espeak-ng's command line", () => {
  let dir: string;
  let file: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "flashverify-audit-voice-"));
    file = join(dir, "secret.txt");
    writeFileSync(file, SECRET);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("speaks a phrase that looks like an option as text, never reading the file it names", async () => {
    const speech = new SpeechClips({ promptsDir: null });
    const secret = await speech.phrase("en", SECRET);
    const attack = await speech.phrase("en", `-f${file}`);
    expect(attack.length).toBeGreaterThan(0);
    expect(samples(attack).equals(samples(secret))).toBe(false);
    // Said as written ("minus f slash tmp slash ..."), the path is longer than the secret's sentence.
    expect(attack.length).toBeGreaterThan(secret.length);
  });
});
