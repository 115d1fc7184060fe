/**
 * Puts a call's prompt together from cached clips: intro, the code digit by digit, "I repeat", the code again, then
 * the menu ("press one"). Pauses between digits make each one stand alone, as a person reading a code would.
 */
import { joinClips, SAMPLE_RATE, silence, type VoicePrompt } from "../../media/prompt.js";
import type { ClipName } from "./phrases.js";
import type { SpeechClips } from "./speech.js";

export interface PromptTiming {
  /** silence between two digits; default 350 ms */
  digitGapMs?: number;
  /** how long the line stays open for a key after the menu; default 5000 ms */
  listenMs?: number;
  /** how often DTMF "1" replays the code; default 2 */
  maxReplays?: number;
}

const PHRASE_GAP_MS = 400;
const LEAD_IN_MS = 300;

/** The prompt that says `code` twice in `language`. */
export async function buildPrompt(
  speech: SpeechClips,
  language: string,
  code: string,
  timing: PromptTiming = {},
): Promise<VoicePrompt> {
  const clip = (name: ClipName) => speech.clip(language, name);
  const [intro, again, menu, ...digits] = await Promise.all([
    clip("intro"),
    clip("again"),
    clip("menu"),
    ...[...code].map((d) => clip(d as ClipName)),
  ]);
  const spoken = joinClips(digits, timing.digitGapMs ?? 350);
  const first = joinClips([silence(LEAD_IN_MS), intro as Int16Array, spoken], PHRASE_GAP_MS);
  const speechAudio = joinClips([first, silence(PHRASE_GAP_MS), again as Int16Array, spoken], PHRASE_GAP_MS);
  return {
    speech: speechAudio,
    codeEndsAt: first.length,
    menu: joinClips([silence(PHRASE_GAP_MS), menu as Int16Array], PHRASE_GAP_MS),
    listenMs: timing.listenMs ?? 5000,
    maxReplays: timing.maxReplays ?? 2,
  };
}

/** Seconds of audio in a prompt's speech and menu (for the call's length limit). */
export function promptSeconds(prompt: VoicePrompt): number {
  return (prompt.speech.length + prompt.menu.length) / SAMPLE_RATE;
}
