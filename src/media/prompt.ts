/**
 * What a voice call plays, as it crosses to the SIP thread: plain 8 kHz 16-bit samples, so that the codec is chosen
 * by the far end's answer and encoded per packet. `codeEndsAt` lets the call say whether the code was heard in full.
 */

export const SAMPLE_RATE = 8000;
/** Samples per 20 ms packet. */
export const PACKET_SAMPLES = 160;
export const PACKET_MS = 20;

export interface VoicePrompt {
  /** The code, said twice (with whatever leads into it). */
  speech: Int16Array;
  /** The sample of `speech` by which the code has been said once in full. */
  codeEndsAt: number;
  /** Said after `speech`: how to hear it again. */
  menu: Int16Array;
  /** How long the line stays open for a key after the menu. */
  listenMs: number;
  /** How many times DTMF "1" replays `speech` and `menu`. */
  maxReplays: number;
}

/** Joins clips with `gapMs` of silence between them (and none after the last). */
export function joinClips(clips: readonly Int16Array[], gapMs: number): Int16Array {
  const gap = Math.round((gapMs * SAMPLE_RATE) / 1000);
  const length = clips.reduce((sum, clip) => sum + clip.length, 0) + gap * Math.max(0, clips.length - 1);
  const out = new Int16Array(length);
  let at = 0;
  clips.forEach((clip, i) => {
    out.set(clip, at);
    at += clip.length + (i < clips.length - 1 ? gap : 0);
  });
  return out;
}

export function silence(ms: number): Int16Array {
  return new Int16Array(Math.round((ms * SAMPLE_RATE) / 1000));
}
