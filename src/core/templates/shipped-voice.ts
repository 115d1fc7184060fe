/**
 * The spoken parts of the voice prompt every deployment starts with, per language: said before the code, between
 * its two repetitions, and after them (how to hear it again). The digits are spoken one by one in the language's
 * own words by the voice channel, so a voice template holds no `{code}`. An application's voice template
 * (/v1/templates/voice/{language}) replaces these; a language without either is spoken in the server's
 * VOICE_LANGUAGE.
 */
import type { Language } from "./languages.js";

export interface VoiceTexts {
  /** said before the code */
  intro: string;
  /** said between the two repetitions */
  again: string;
  /** said after the second: how to hear the code again (DTMF 1) */
  menu: string;
}

export const SHIPPED_VOICE: Readonly<Partial<Record<Language, VoiceTexts>>> = {
  en: {
    intro: "Your verification code is",
    again: "I repeat, your code is",
    menu: "To hear the code again, press one.",
  },
  es: {
    intro: "Su código de verificación es",
    again: "Repito, su código es",
    menu: "Para volver a escuchar el código, pulse uno.",
  },
  pt: {
    intro: "O seu código de verificação é",
    again: "Repito, o seu código é",
    menu: "Para ouvir o código novamente, pressione um.",
  },
  fr: {
    intro: "Votre code de vérification est",
    again: "Je répète, votre code est",
    menu: "Pour réécouter le code, appuyez sur un.",
  },
  de: {
    intro: "Ihr Bestätigungscode lautet",
    again: "Ich wiederhole, Ihr Code lautet",
    menu: "Um den Code noch einmal zu hören, drücken Sie die Eins.",
  },
  it: {
    intro: "Il suo codice di verifica è",
    again: "Ripeto, il suo codice è",
    menu: "Per riascoltare il codice, prema uno.",
  },
  ru: {
    intro: "Ваш код подтверждения",
    again: "Повторяю, ваш код",
    menu: "Чтобы прослушать код ещё раз, нажмите один.",
  },
};
