/**
 * What a voice call plays, as it crosses to the SIP thread: a list of named clips (8 kHz 16-bit samples) and
 * silences, so that the codec is chosen by the far end's answer and encoded per packet, and so that a clip crosses
 * to the thread once, not once per call: the samples of "7" in Spanish are the same array for every call.
 */

export const SAMPLE_RATE = 8000;
/** Samples per 20 ms packet. */
export const PACKET_SAMPLES = 160;
export const PACKET_MS = 20;

/** A part of a prompt: a clip's key, or `~<ms>` for that many milliseconds of silence. */
export type PromptPart = string;

export interface VoicePrompt {
  /** The samples of every clip the parts name, by key. */
  clips: ReadonlyMap<string, Int16Array>;
  /** The code, said twice (with whatever leads into it). */
  speech: readonly PromptPart[];
  /** How many parts of `speech` have played once the code has been said in full. */
  codeEndsAfter: number;
  /** Said after `speech`: how to hear it again. */
  menu: readonly PromptPart[];
  /** How long the line stays open for a key after the menu. */
  listenMs: number;
  /** How many times DTMF "1" replays `speech` and `menu`. */
  maxReplays: number;
}

/** `ms` of silence as a prompt part. */
export function pause(ms: number): PromptPart {
  return `~${Math.round(ms)}`;
}

const silences = new Map<string, Int16Array>();
const EMPTY = new Int16Array(0);

/** The samples of a part: its clip, or zeros for a silence (shared per length). */
export function partSamples(prompt: Pick<VoicePrompt, "clips">, part: PromptPart): Int16Array {
  if (!part.startsWith("~")) return prompt.clips.get(part) ?? EMPTY;
  let zeros = silences.get(part);
  if (!zeros) {
    zeros = new Int16Array(Math.round((Number(part.slice(1)) * SAMPLE_RATE) / 1000));
    silences.set(part, zeros);
  }
  return zeros;
}

/** Seconds of audio in a prompt's speech and menu. */
export function promptSeconds(prompt: VoicePrompt): number {
  const samples = [...prompt.speech, ...prompt.menu].reduce((sum, p) => sum + partSamples(prompt, p).length, 0);
  return samples / SAMPLE_RATE;
}
