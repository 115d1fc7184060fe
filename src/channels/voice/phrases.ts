/**
 * The spoken parts of the voice prompt around the code, per language, and the espeak-ng voice that says them. The
 * digits themselves are rendered one by one (espeak-ng says "7" as the language's own word), so a language needs
 * only these three lines. A deployment with recorded prompts supplies the same clips as files instead.
 */

export interface VoicePhrases {
  /** espeak-ng's voice name */
  voice: string;
  /** said before the code */
  intro: string;
  /** said between the two repetitions */
  again: string;
  /** said after the second: how to hear the code again */
  menu: string;
}

export const VOICE_PHRASES: Readonly<Record<string, VoicePhrases>> = {
  en: {
    voice: "en",
    intro: "Your verification code is",
    again: "I repeat, your code is",
    menu: "To hear the code again, press one.",
  },
  es: {
    voice: "es",
    intro: "Su código de verificación es",
    again: "Repito, su código es",
    menu: "Para volver a escuchar el código, pulse uno.",
  },
  pt: {
    voice: "pt",
    intro: "O seu código de verificação é",
    again: "Repito, o seu código é",
    menu: "Para ouvir o código novamente, pressione um.",
  },
  fr: {
    voice: "fr",
    intro: "Votre code de vérification est",
    again: "Je répète, votre code est",
    menu: "Pour réécouter le code, appuyez sur un.",
  },
  de: {
    voice: "de",
    intro: "Ihr Bestätigungscode lautet",
    again: "Ich wiederhole, Ihr Code lautet",
    menu: "Um den Code noch einmal zu hören, drücken Sie die Eins.",
  },
  it: {
    voice: "it",
    intro: "Il suo codice di verifica è",
    again: "Ripeto, il suo codice è",
    menu: "Per riascoltare il codice, prema uno.",
  },
  ru: {
    voice: "ru",
    intro: "Ваш код подтверждения",
    again: "Повторяю, ваш код",
    menu: "Чтобы прослушать код ещё раз, нажмите один.",
  },
};

export type VoiceLanguage = keyof typeof VOICE_PHRASES;

/** The languages the prompt can speak, for configuration checks. */
export const VOICE_LANGUAGES = Object.keys(VOICE_PHRASES);

/** The clips of one language: its phrases and the ten digits. */
export type ClipName = "intro" | "again" | "menu" | "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9";
