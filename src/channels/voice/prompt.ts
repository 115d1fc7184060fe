/**
 * Puts a call's prompt together from cached clips: intro, the code digit by digit, "I repeat", the code again, then
 * the menu ("press one"). Pauses between digits make each one stand alone, as a person reading a code would. The
 * prompt names its clips; their samples are the cache's own arrays, shared by every call.
 */

import { createHash } from "node:crypto";
import type { VoiceTexts } from "../../core/templates/shipped-voice.js";
import { type PromptPart, pause, type VoicePrompt } from "../../media/prompt.js";
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

/**
 * The prompt that says `code` twice in `language`: with an application's `texts` (its voice template) around it,
 * else the language's default phrases. Digits are always the per-digit clips.
 */
export async function buildPrompt(
  speech: SpeechClips,
  language: string,
  code: string,
  timing: PromptTiming = {},
  texts?: VoiceTexts,
): Promise<VoicePrompt> {
  const clips = new Map<string, Int16Array>();
  const names: ClipName[] = ["intro", "again", "menu", ...([...code] as ClipName[])];
  const phraseOf = (name: ClipName) =>
    texts && (name === "intro" || name === "again" || name === "menu") ? texts[name] : undefined;
  // A clip's name is its identity wherever it is kept (the media threads keep every clip they were sent, by name,
  // for later calls): an application's phrase is named by its text, so another application's or an edited
  // template's never plays under the same name.
  const key = (name: ClipName): PromptPart => {
    const phrase = phraseOf(name);
    return phrase
      ? `${language}/${name}/${createHash("sha256").update(phrase).digest("base64url").slice(0, 16)}`
      : `${language}/${name}`;
  };
  await Promise.all(
    names.map(async (name) => {
      const phrase = phraseOf(name);
      clips.set(key(name), await (phrase ? speech.phrase(language, phrase) : speech.clip(language, name)));
    }),
  );
  const digitGap = pause(timing.digitGapMs ?? 350);
  const digits = [...code].flatMap((d, i) => (i === 0 ? [key(d as ClipName)] : [digitGap, key(d as ClipName)]));
  const first = [pause(LEAD_IN_MS), key("intro"), pause(PHRASE_GAP_MS), ...digits];
  return {
    clips,
    speech: [...first, pause(2 * PHRASE_GAP_MS), key("again"), pause(PHRASE_GAP_MS), ...digits],
    codeEndsAfter: first.length,
    menu: [pause(PHRASE_GAP_MS), key("menu")],
    listenMs: timing.listenMs ?? 5000,
    maxReplays: timing.maxReplays ?? 2,
  };
}
