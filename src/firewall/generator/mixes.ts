/**
 * Population mixes for evaluation. `train` is what the default model was fitted on; `holdout` differs in every knob
 * the classifier could have over-learned (shares of each population, how often people hang up within seconds, flash
 * senders' ring times and trunks, how widely rotated senders spread), adds populations the training day does not
 * have at all (people-beeping, flash-recycled), and is generated with other seeds.
 */

export type Population =
  | "people"
  | "voicemail"
  | "call-centre"
  | "robocall"
  | "flash-fixed"
  | "flash-rotated"
  | "flash-random-ring"
  | "flash-mixed"
  | "flash-spoofed"
  | "flash-known"
  | "people-beeping"
  | "flash-recycled";

export interface Mix {
  name: string;
  /** share of calls per population (normalised) */
  shares: Record<Population, number>;
  /** share of people's calls the caller abandons after a short ring (misdials, second thoughts) */
  peopleQuickCancel: number;
  /** share of call centres' calls their dialer abandons after a short ring */
  centreQuickCancel: number;
  /** ring before the flash sender cancels, ms, for fixed and rotated senders */
  flashRingMs: [number, number];
  /** calling ranges a rotating sender spreads over */
  rotatedRanges: number;
  /** share of flash calls arriving on domestic trunks (the rest on international ones) */
  flashDomesticTrunkShare: number;
  /** share of a mixed sender's calls that are flash calls */
  mixedFlashShare: number;
}

export const MIXES: Record<string, Mix> = {
  train: {
    name: "train",
    shares: {
      people: 55,
      voicemail: 5,
      "call-centre": 8,
      robocall: 4,
      "flash-fixed": 10,
      "flash-rotated": 6,
      "flash-random-ring": 5,
      "flash-mixed": 3,
      "flash-spoofed": 3,
      "flash-known": 1,
      "people-beeping": 0,
      "flash-recycled": 0,
    },
    peopleQuickCancel: 0.03,
    centreQuickCancel: 0.04,
    flashRingMs: [1000, 3500],
    rotatedRanges: 400,
    flashDomesticTrunkShare: 0.2,
    mixedFlashShare: 0.4,
  },
  holdout: {
    name: "holdout",
    shares: {
      people: 62,
      voicemail: 3,
      "call-centre": 5,
      robocall: 6,
      "flash-fixed": 5,
      "flash-rotated": 8,
      "flash-random-ring": 4,
      "flash-mixed": 2,
      "flash-spoofed": 4,
      "flash-known": 1,
      // Two behaviours the training day never shows: people ringing to be called back, and a sender reusing a
      // small pool of caller IDs all day.
      "people-beeping": 2,
      "flash-recycled": 3,
    },
    peopleQuickCancel: 0.045,
    centreQuickCancel: 0.06,
    flashRingMs: [600, 5000],
    rotatedRanges: 1500,
    flashDomesticTrunkShare: 0.35,
    mixedFlashShare: 0.25,
  },
};

export function isFlash(p: Population): boolean {
  return p.startsWith("flash-");
}
