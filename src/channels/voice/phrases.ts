/**
 * The voice prompt's default words per language (the shipped voice templates, src/core/templates/shipped-voice.ts)
 * and the espeak-ng voice that says each language. The digits themselves are rendered one by one (espeak-ng says
 * "7" as the language's own word), so a language needs only its three phrases; an application's voice template
 * may speak any language espeak-ng has a voice for. A deployment with recorded prompts supplies the default
 * phrases as files instead.
 */
import { SHIPPED_VOICE, type VoiceTexts } from "../../core/templates/shipped-voice.js";

export interface VoicePhrases extends VoiceTexts {
  /** espeak-ng's voice name */
  voice: string;
}

/** espeak-ng's voice for each language the templates ship (Debian's espeak-ng 1.51 has them all). */
export const ESPEAK_VOICES: Readonly<Record<string, string>> = {
  en: "en",
  es: "es",
  pt: "pt",
  fr: "fr",
  de: "de",
  it: "it",
  ru: "ru",
  uk: "uk",
  hi: "hi",
  id: "id",
  ar: "ar",
};

/** The languages with default phrases: a verification in another one is spoken in VOICE_LANGUAGE. */
export const VOICE_PHRASES: Readonly<Record<string, VoicePhrases>> = Object.fromEntries(
  Object.entries(SHIPPED_VOICE).map(([language, texts]) => [
    language,
    { ...(texts as VoiceTexts), voice: ESPEAK_VOICES[language] ?? language },
  ]),
);

export type VoiceLanguage = keyof typeof VOICE_PHRASES;

/** The languages the prompt can speak by default, for configuration checks. */
export const VOICE_LANGUAGES = Object.keys(VOICE_PHRASES);

/** The clips of one language: its phrases and the ten digits. */
export type ClipName = "intro" | "again" | "menu" | "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9";
