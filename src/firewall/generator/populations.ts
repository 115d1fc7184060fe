/**
 * Who calls whom, and how calls end, for each population (mixes.ts). Each population produces calls with a start,
 * caller, callee, trunk and outcome drawn from distributions; nothing in a record says which population made it.
 * People's quick hang-ups, call centres' early abandons and robocalls' short calls are there on purpose: individually
 * they look exactly like flash calls.
 */
import type { Cdr } from "../cdr.js";
import type { Mix, Population } from "./mixes.js";
import type { Random } from "./random.js";

export interface GeneratedCall {
  cdr: Omit<Cdr, "callId">;
  population: Population;
}

export const DAY_START = Date.parse("2026-12-01T00:00:00Z");
const DAY_MS = 86_400_000;
export const DOMESTIC_TRUNKS = ["uk-mno-a", "uk-mno-b", "uk-fixed"] as const;
export const INTERNATIONAL_TRUNKS = ["intl-carrier-1", "intl-carrier-2", "intl-carrier-3"] as const;
const FLASH_COUNTRIES = ["+7", "+380", "+62", "+234", "+44", "+49", "+31", "+372", "+63", "+55"];

/** People call more by day: an hour drawn from a daytime-heavy profile. */
const HOUR_WEIGHTS = [1, 0.5, 0.3, 0.3, 0.4, 0.8, 2, 4, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 6, 5, 4, 3, 2];

export class World {
  /** calling ranges (number minus its last 4 digits) of the people population */
  readonly humanRanges: string[] = [];
  readonly subscribers: string[] = [];
  readonly out: GeneratedCall[] = [];

  constructor(
    readonly rnd: Random,
    readonly mix: Mix,
  ) {
    for (let i = 0; i < 3000; i++) this.humanRanges.push(this.humanRangePrefix());
    for (let i = 0; i < 200_000; i++) this.subscribers.push(`+447${rnd.digits(9)}`);
  }

  private humanRangePrefix(): string {
    const r = this.rnd.next();
    if (r < 0.85) return `+447${this.rnd.digits(5)}`;
    if (r < 0.93) return `+4915${this.rnd.digits(5)}`;
    return `+336${this.rnd.digits(4)}`;
  }

  daytime(): number {
    return DAY_START + this.rnd.weighted(HOUR_WEIGHTS) * 3_600_000 + this.rnd.uniform(0, 3_600_000);
  }

  anytime(): number {
    return DAY_START + this.rnd.uniform(0, DAY_MS);
  }

  trunk(domesticShare: number): string {
    return this.rnd.pick(this.rnd.chance(domesticShare) ? DOMESTIC_TRUNKS : INTERNATIONAL_TRUNKS);
  }

  push(population: Population, start: number, caller: string, callee: string, source: string, o: Outcome): void {
    this.out.push({ population, cdr: { start: Math.round(start), caller, callee, source, ...o } });
  }
}

export interface Outcome {
  answered: boolean;
  ringMs: number;
  talkMs: number;
  sipCode: number;
}

const ms = (x: number) => Math.max(0, Math.round(x));
const answered = (ringMs: number, talkMs: number): Outcome => ({
  answered: true,
  ringMs: ms(ringMs),
  talkMs: ms(Math.max(talkMs, 200)),
  sipCode: 200,
});
const unanswered = (ringMs: number, sipCode: number): Outcome => ({
  answered: false,
  ringMs: ms(ringMs),
  talkMs: 0,
  sipCode,
});

/** An ordinary person's call: answered, unanswered after a long ring, busy, unreachable, or abandoned quickly. */
export function personOutcome(w: World, quickCancel: number): Outcome {
  const r = w.rnd;
  const u = r.next();
  if (u < quickCancel) return unanswered(r.uniform(300, 6500), 487);
  if (u < quickCancel + 0.6) {
    const talk = r.chance(0.1) ? r.uniform(1000, 10_000) : r.logNormal(60_000, 1.2);
    return answered(Math.min(r.logNormal(7000, 0.5), 30_000), talk);
  }
  if (u < quickCancel + 0.65) return unanswered(r.uniform(0, 800), 486);
  if (u < quickCancel + 0.68) return unanswered(r.uniform(0, 3000), r.pick([480, 404, 503]));
  return r.chance(0.7)
    ? unanswered(r.uniform(12_000, 45_000), 487)
    : unanswered(r.uniform(25_000, 60_000), r.pick([408, 480]));
}

export function people(w: World, calls: number): void {
  const r = w.rnd;
  let made = 0;
  while (made < calls) {
    const caller = `${r.pick(w.humanRanges)}${r.digits(4)}`;
    const favourites = [r.pick(w.subscribers), r.pick(w.subscribers), r.pick(w.subscribers)];
    const source = w.trunk(caller.startsWith("+44") ? 0.97 : 0.05);
    const count = 1 + Math.floor(r.logNormal(2, 0.8));
    for (let i = 0; i < count && made < calls; i++) {
      const callee = r.chance(0.5) ? r.pick(favourites) : r.pick(w.subscribers);
      let start = w.daytime();
      const o = personOutcome(w, w.mix.peopleQuickCancel);
      w.push("people", start, caller, callee, source, o);
      made++;
      // After an abandoned or unanswered call, people often try again a little later.
      if (!o.answered && r.chance(0.4) && made < calls) {
        start += o.ringMs + r.uniform(20_000, 600_000);
        w.push("people", start, caller, callee, source, personOutcome(w, w.mix.peopleQuickCancel));
        made++;
      }
    }
  }
}

/**
 * People who ring to be called back (a missed call as a free signal, "beeping"): a short ring and a cancel to one of
 * two people they know, several times a day. Ordinary traffic shaped exactly like flash calls, from numbers in
 * people's ranges on the trunks people use.
 */
export function peopleBeeping(w: World, calls: number): void {
  const r = w.rnd;
  let made = 0;
  while (made < calls) {
    const caller = `${r.pick(w.humanRanges)}${r.digits(4)}`;
    const friends = [r.pick(w.subscribers), r.pick(w.subscribers)];
    const source = w.trunk(caller.startsWith("+44") ? 0.97 : 0.05);
    const count = r.int(2, 8);
    for (let i = 0; i < count && made < calls; i++, made++) {
      const o = r.chance(0.85) ? unanswered(r.uniform(1000, 5000), 487) : personOutcome(w, w.mix.peopleQuickCancel);
      w.push("people-beeping", w.daytime(), caller, r.pick(friends), source, o);
    }
  }
}

export function voicemail(w: World, calls: number): void {
  const r = w.rnd;
  for (let i = 0; i < calls; i++) {
    const caller = `${r.pick(w.humanRanges)}${r.digits(4)}`;
    w.push(
      "voicemail",
      w.daytime(),
      caller,
      r.pick(w.subscribers),
      w.trunk(0.95),
      answered(r.uniform(15_000, 26_000), r.uniform(3000, 40_000)),
    );
  }
}

/** Outbound call centres: a range of agent lines, many distinct callees, predictive dialers that abandon. */
export function callCentres(w: World, calls: number): string[][] {
  const r = w.rnd;
  const all: string[][] = [];
  const centres = Math.max(1, Math.round(calls / 4000));
  for (let c = 0; c < centres; c++) {
    const range = r.chance(0.7) ? `+442${r.digits(5)}` : `+44${r.pick(["3", "8"])}${r.digits(5)}`;
    const lines = Array.from({ length: r.int(20, 300) }, () => `${range}${r.digits(4)}`);
    all.push(lines);
    const source = w.trunk(0.7);
    for (let i = 0; i < calls / centres; i++) {
      w.push("call-centre", w.daytime(), r.pick(lines), r.pick(w.subscribers), source, centreOutcome(w));
    }
  }
  return all;
}

function centreOutcome(w: World): Outcome {
  const r = w.rnd;
  const u = r.next();
  if (u < w.mix.centreQuickCancel) return unanswered(r.uniform(2000, 7000), 487);
  if (u < w.mix.centreQuickCancel + 0.05) return answered(r.uniform(2000, 15_000), r.uniform(0, 2000));
  if (u < w.mix.centreQuickCancel + 0.4) return answered(r.uniform(4000, 20_000), r.logNormal(90_000, 1));
  if (u < w.mix.centreQuickCancel + 0.45) return unanswered(r.uniform(0, 800), 486);
  return unanswered(r.uniform(18_000, 32_000), r.chance(0.8) ? 487 : 480);
}

/** Robocalls: half from ranges of their own, half spoofing numbers in people's ranges. */
export function robocalls(w: World, calls: number): void {
  const r = w.rnd;
  const own = Array.from({ length: 20 }, () => `+44${r.pick(["1", "2", "3"])}${r.digits(5)}`);
  for (let i = 0; i < calls; i++) {
    const caller = `${r.chance(0.5) ? r.pick(own) : r.pick(w.humanRanges)}${r.digits(4)}`;
    const u = r.next();
    const o =
      u < 0.25
        ? answered(r.uniform(3000, 15_000), r.uniform(3000, 30_000))
        : u < 0.28
          ? unanswered(r.uniform(1000, 6000), 487)
          : unanswered(r.uniform(15_000, 30_000), r.chance(0.7) ? 487 : 480);
    w.push("robocall", w.anytime(), caller, r.pick(w.subscribers), w.trunk(0.5), o);
  }
}

/** A flash call's end: mostly cancelled after a short ring; some answered at once, some fail, a few ring long. */
export function flashOutcome(w: World, ringMs: [number, number]): Outcome {
  const r = w.rnd;
  const u = r.next();
  if (u < 0.9) return unanswered(r.uniform(ringMs[0], ringMs[1]), 487);
  if (u < 0.93) return answered(r.uniform(ringMs[0], ringMs[1]), r.uniform(100, 1500));
  if (u < 0.985) return unanswered(r.uniform(0, 1500), r.pick([480, 404, 486, 503, 603]));
  return unanswered(r.uniform(7000, 9000), 487);
}

/** Flash calls to `calls` verifications: callers drawn by `callerFor`, with users' retries to the same callee. */
export function flashSender(
  w: World,
  population: Population,
  calls: number,
  callerFor: () => string,
  ringMs: [number, number],
): void {
  const r = w.rnd;
  let made = 0;
  while (made < calls) {
    const callee = r.pick(w.subscribers);
    let start = r.chance(0.8) ? w.daytime() : w.anytime();
    const source = w.trunk(w.mix.flashDomesticTrunkShare);
    w.push(population, start, callerFor(), callee, source, flashOutcome(w, ringMs));
    made++;
    if (r.chance(0.08) && made < calls) {
      start += r.uniform(30_000, 90_000);
      w.push(population, start, callerFor(), callee, source, flashOutcome(w, ringMs));
      made++;
    }
  }
}

export function flashRange(w: World): string {
  const cc = w.rnd.pick(FLASH_COUNTRIES);
  return `${cc}${w.rnd.digits(Math.max(4, 10 - cc.length))}`;
}
