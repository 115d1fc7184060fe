/**
 * The traffic generator: a day of calls at an operator's interconnect from the populations of a mix, written as a
 * CDR CSV (the analyzer's input format) and, separately, a labels file (`call_id,label,population`), so nothing in
 * the records themselves tells a flash call apart.
 *
 * @example
 * const calls = generateTraffic({ mix: MIXES.holdout, seed: 7, calls: 100_000 });
 * await writeTraffic(calls, "day.csv", "day.labels.csv");
 */

import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { CDR_COLUMNS, type Cdr, formatCdr } from "../cdr.js";
import { isFlash, type Mix, type Population } from "./mixes.js";
import {
  callCentres,
  flashRange,
  flashSender,
  people,
  peopleBeeping,
  robocalls,
  voicemail,
  World,
} from "./populations.js";
import { Random } from "./random.js";

/** The contracted verification provider's range in the generated data (docs/firewall.md's example config lists it). */
export const KNOWN_SENDER_RANGE = "+44207946";

export interface LabelledCall {
  cdr: Cdr;
  population: Population;
}

export function generateTraffic(options: { mix: Mix; seed: number; calls: number }): LabelledCall[] {
  const { mix, seed, calls } = options;
  const rnd = new Random(seed);
  const w = new World(rnd, mix);
  const total = Object.values(mix.shares).reduce((a, b) => a + b, 0);
  const n = (p: Population) => Math.round((calls * mix.shares[p]) / total);

  people(w, n("people"));
  voicemail(w, n("voicemail"));
  callCentres(w, n("call-centre"));
  robocalls(w, n("robocall"));

  const fixed = Array.from({ length: 5 }, () => flashRange(w));
  flashSender(w, "flash-fixed", n("flash-fixed"), () => `${rnd.pick(fixed)}${rnd.digits(4)}`, mix.flashRingMs);
  const rotated = Array.from({ length: mix.rotatedRanges }, () => flashRange(w));
  flashSender(w, "flash-rotated", n("flash-rotated"), () => `${rnd.pick(rotated)}${rnd.digits(4)}`, mix.flashRingMs);
  const randomRing = Array.from({ length: 3 }, () => flashRange(w));
  flashSender(
    w,
    "flash-random-ring",
    n("flash-random-ring"),
    () => `${rnd.pick(randomRing)}${rnd.digits(4)}`,
    [500, 6000],
  );
  // A sender hiding flash calls among the ordinary calls of its call-centre lines.
  const mixedFlash = n("flash-mixed");
  const mixedLines = callCentres(w, Math.round((mixedFlash * (1 - mix.mixedFlashShare)) / mix.mixedFlashShare)).flat();
  flashSender(w, "flash-mixed", mixedFlash, () => rnd.pick(mixedLines), mix.flashRingMs);
  flashSender(w, "flash-spoofed", n("flash-spoofed"), () => `${rnd.pick(w.humanRanges)}${rnd.digits(4)}`, [500, 6000]);
  flashSender(w, "flash-known", n("flash-known"), () => `${KNOWN_SENDER_RANGE}${rnd.digits(4)}`, mix.flashRingMs);
  // Populations only some mixes have come last, so a mix without them draws the same day as before they existed.
  if (n("people-beeping") > 0) peopleBeeping(w, n("people-beeping"));
  if (n("flash-recycled") > 0) {
    // A sender reusing a pool of caller IDs, each about six times a day, each in a range of its own.
    const pool = Array.from({ length: Math.ceil(n("flash-recycled") / 6) }, () => `${flashRange(w)}${rnd.digits(4)}`);
    flashSender(w, "flash-recycled", n("flash-recycled"), () => rnd.pick(pool), [800, 6000]);
  }

  w.out.sort((a, b) => a.cdr.start - b.cdr.start);
  const prefix = `${seed.toString(36)}-`;
  return w.out.map((c, i) => ({ cdr: { callId: `${prefix}${i.toString(36)}`, ...c.cdr }, population: c.population }));
}

/** Writes the CDR CSV and the labels CSV. */
export async function writeTraffic(calls: readonly LabelledCall[], cdrPath: string, labelsPath: string): Promise<void> {
  await writeLines(cdrPath, CDR_COLUMNS.join(","), calls, (c) => formatCdr(c.cdr));
  await writeLines(
    labelsPath,
    "call_id,label,population",
    calls,
    (c) => `${c.cdr.callId},${isFlash(c.population) ? "flashcall" : "other"},${c.population}`,
  );
}

async function writeLines<T>(path: string, header: string, items: readonly T[], line: (t: T) => string) {
  const out = createWriteStream(path);
  let chunk = `${header}\n`;
  for (const item of items) {
    chunk += `${line(item)}\n`;
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await once(out, "drain");
      chunk = "";
    }
  }
  out.end(chunk);
  await once(out, "finish");
}
