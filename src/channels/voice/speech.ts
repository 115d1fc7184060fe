/**
 * The audio of the voice prompt's clips at 8 kHz: rendered by espeak-ng (piped through sox to 8 kHz 16-bit mono)
 * or read from a deployment's recorded files, once per language and clip. A call's prompt is put together from
 * these, so rendering costs nothing per call once each language has been heard.
 *
 * Recorded prompts: `<dir>/<language>/<clip>.wav` for the clips intro, again, menu and 0-9, in any format sox
 * reads; a language or clip without a file falls back to espeak-ng.
 *
 * @example
 * const speech = new SpeechClips({ promptsDir: null });
 * const seven = await speech.clip("es", "7"); // Int16Array of "siete" at 8 kHz
 */
import { spawn } from "node:child_process";
import { access } from "node:fs/promises";
import { join } from "node:path";
import { SAMPLE_RATE } from "../../media/prompt.js";
import { type ClipName, ESPEAK_VOICES, VOICE_PHRASES } from "./phrases.js";

export interface SpeechClipsOptions {
  /** directory of recorded prompts; null: espeak-ng only */
  promptsDir: string | null;
  /** espeak-ng's speed in words per minute; default 150 (slower than its 175, for a phone line) */
  wordsPerMinute?: number;
}

const TO_8K_PCM = ["-t", "raw", "-e", "signed-integer", "-b", "16", "-c", "1", "-r", String(SAMPLE_RATE), "-"];
/** Samples quieter than this at either end of a rendered clip are trimmed (espeak-ng pads with silence). */
const TRIM_LEVEL = 100;

/** Phrases of applications' voice templates kept rendered; past this the least recently used is rendered again. */
const PHRASES_KEPT = 1000;

export class SpeechClips {
  private readonly cache = new Map<string, Promise<Int16Array>>();
  /** applications' phrases by language and text: one rendering per template and language, not per call */
  private readonly phrases = new Map<string, Promise<Int16Array>>();

  constructor(private readonly options: SpeechClipsOptions) {}

  /** One clip of `language` (a key of VOICE_PHRASES); rendered on first use, then from memory. */
  clip(language: string, name: ClipName): Promise<Int16Array> {
    const key = `${language}/${name}`;
    let clip = this.cache.get(key);
    if (!clip) {
      clip = this.render(language, name);
      // A failed render is not remembered: the next call tries again.
      clip.catch(() => this.cache.delete(key));
      this.cache.set(key, clip);
    }
    return clip;
  }

  /**
   * An application's phrase (a voice template's intro, again or menu) in `language` (a key of ESPEAK_VOICES),
   * rendered by espeak-ng on first use and then from memory, keyed by its text: every call of that template says it
   * from the same samples.
   */
  phrase(language: string, text: string): Promise<Int16Array> {
    const voice = ESPEAK_VOICES[language];
    if (!voice) return Promise.reject(new RangeError(`no espeak-ng voice for language ${JSON.stringify(language)}`));
    const key = `${language}\n${text}`;
    let clip = this.phrases.get(key);
    if (clip) {
      // Most recently used last: the oldest entry is the one to drop.
      this.phrases.delete(key);
    } else {
      clip = this.speak(voice, text);
      clip.catch(() => this.phrases.delete(key));
    }
    this.phrases.set(key, clip);
    if (this.phrases.size > PHRASES_KEPT) this.phrases.delete(this.phrases.keys().next().value as string);
    return clip;
  }

  /** Clips and phrases rendered or being rendered (for tests and metrics). */
  get size(): number {
    return this.cache.size + this.phrases.size;
  }

  private async render(language: string, name: ClipName): Promise<Int16Array> {
    const phrases = VOICE_PHRASES[language];
    if (!phrases) throw new RangeError(`no voice prompt for language ${JSON.stringify(language)}`);
    const file = this.options.promptsDir ? join(this.options.promptsDir, language, `${name}.wav`) : null;
    if (file && (await exists(file))) return trim(await run("sox", [file, ...TO_8K_PCM]));
    const text = name === "intro" || name === "again" || name === "menu" ? phrases[name] : name;
    return this.speak(phrases.voice, text);
  }

  private async speak(voice: string, text: string): Promise<Int16Array> {
    const speed = String(this.options.wordsPerMinute ?? 150);
    // "--": an application's phrase is text even when it looks like an option (`-f<file>` would say a file's contents).
    return trim(
      await run(
        "sox",
        ["-t", "wav", "-", ...TO_8K_PCM],
        ["espeak-ng", ["-v", voice, "-s", speed, "--stdout", "--", text]],
      ),
    );
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `command` (fed by `source`'s stdout when given) and returns its stdout as 16-bit samples.
 * @throws Error with the tool's stderr when either exits non-zero or cannot start
 */
function run(command: string, args: string[], source?: [string, string[]]): Promise<Int16Array> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    const feeder = source ? spawn(source[0], source[1], { stdio: ["ignore", "pipe", "pipe"] }) : null;
    const chunks: Buffer[] = [];
    let errors = "";
    let failed = false;
    const fail = (error: Error) => {
      if (failed) return;
      failed = true;
      feeder?.kill();
      child.kill();
      reject(error);
    };
    child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => {
      errors += chunk.toString();
    });
    child.on("error", fail);
    if (feeder) {
      feeder.stdout.pipe(child.stdin);
      feeder.stderr.on("data", (chunk: Buffer) => {
        errors += chunk.toString();
      });
      feeder.on("error", fail);
      feeder.on("close", (code) => {
        if (code !== 0) fail(new Error(`${source?.[0]} exited ${code}: ${errors.trim()}`));
      });
    } else child.stdin.end();
    child.on("close", (code) => {
      if (failed) return;
      if (code !== 0) return fail(new Error(`${command} exited ${code}: ${errors.trim()}`));
      const bytes = Buffer.concat(chunks);
      const samples = new Int16Array(bytes.length >> 1);
      for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(i * 2);
      resolve(samples);
    });
  });
}

/** Cuts the quiet ends of a clip, keeping 20 ms on each side so a word is not clipped. */
function trim(samples: Int16Array): Int16Array {
  const margin = SAMPLE_RATE / 50;
  let start = 0;
  while (start < samples.length && Math.abs(samples[start] as number) < TRIM_LEVEL) start++;
  let end = samples.length;
  while (end > start && Math.abs(samples[end - 1] as number) < TRIM_LEVEL) end--;
  if (start >= end) return samples.subarray(0, 0);
  return samples.slice(Math.max(0, start - margin), Math.min(samples.length, end + margin));
}
