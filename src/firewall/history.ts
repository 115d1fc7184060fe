/**
 * What the classifier remembers: per calling range, per caller, per ingress trunk and per caller->callee pair, the
 * counts its features are made of. Only counts, so the same history serves a proxy that learns call by call and
 * an offline pass that has read a whole day of records first.
 */

/** Outcome counts of the calls that ended. */
export interface Tally {
  /** INVITEs seen (attempts, ended or not) */
  attempts: number;
  ended: number;
  /** unanswered, ring under SHORT_RING_MS and cancelled by the caller (487): the flash-call shape */
  shortCancel: number;
  answered: number;
}

/** A call that has ended, as the classifier needs it. */
export interface CallOutcome {
  caller: string;
  callee: string;
  source: string;
  answered: boolean;
  ringMs: number;
  talkMs: number;
  sipCode: number;
}

/** A flash call rings for seconds at most; a person giving up on an unanswered call has usually waited longer. */
export const SHORT_RING_MS = 7000;

export function isShortCancel(call: CallOutcome): boolean {
  return !call.answered && call.ringMs < SHORT_RING_MS && call.sipCode === 487;
}

/**
 * The calling range of a number: the number without its last `digits` digits, which is how flash-call senders
 * hold their caller IDs (the last digits are the code).
 * @example callingRange("+442079412345", 4) // "+44207941xxxx"
 */
export function callingRange(number: string, digits: number): string {
  return `${number.slice(0, Math.max(2, number.length - digits))}${"x".repeat(Math.min(digits, number.length - 2))}`;
}

const empty = (): Tally => ({ attempts: 0, ended: 0, shortCancel: 0, answered: 0 });

export class CallHistory {
  readonly ranges = new Map<string, Tally>();
  readonly callers = new Map<string, Tally>();
  readonly sources = new Map<string, Tally>();
  /** per trunk and caller's number prefix (`uk-mno-a|+447`): a domestic number arriving on a foreign trunk */
  readonly routes = new Map<string, Tally>();
  readonly pairs = new Map<string, number>();

  constructor(readonly rangeDigits: number) {}

  range(caller: string): Tally {
    return this.ranges.get(callingRange(caller, this.rangeDigits)) ?? EMPTY;
  }
  caller(caller: string): Tally {
    return this.callers.get(caller) ?? EMPTY;
  }
  source(source: string): Tally {
    return this.sources.get(source) ?? EMPTY;
  }
  route(source: string, caller: string): Tally {
    return this.routes.get(routeKey(source, caller)) ?? EMPTY;
  }
  pair(caller: string, callee: string): number {
    return this.pairs.get(`${caller}>${callee}`) ?? 0;
  }

  /** Counts an attempt (at INVITE, or for a record before its outcome). */
  attempt(caller: string, callee: string, source: string): void {
    tally(this.ranges, callingRange(caller, this.rangeDigits)).attempts++;
    tally(this.callers, caller).attempts++;
    tally(this.sources, source).attempts++;
    tally(this.routes, routeKey(source, caller)).attempts++;
    const key = `${caller}>${callee}`;
    this.pairs.set(key, (this.pairs.get(key) ?? 0) + 1);
  }

  /** Counts an attempt and its outcome at once (the offline pass: one lookup per table instead of two). */
  add(call: CallOutcome): void {
    const short = isShortCancel(call);
    const answered = call.answered;
    for (const t of [
      tally(this.ranges, callingRange(call.caller, this.rangeDigits)),
      tally(this.callers, call.caller),
      tally(this.sources, call.source),
      tally(this.routes, routeKey(call.source, call.caller)),
    ]) {
      t.attempts++;
      t.ended++;
      if (short) t.shortCancel++;
      if (answered) t.answered++;
    }
    const key = `${call.caller}>${call.callee}`;
    this.pairs.set(key, (this.pairs.get(key) ?? 0) + 1);
  }

  /** Counts the outcome of a call whose attempt was counted. */
  end(call: CallOutcome): void {
    const short = isShortCancel(call);
    for (const t of [
      tally(this.ranges, callingRange(call.caller, this.rangeDigits)),
      tally(this.callers, call.caller),
      tally(this.sources, call.source),
      tally(this.routes, routeKey(call.source, call.caller)),
    ]) {
      t.ended++;
      if (short) t.shortCancel++;
      if (call.answered) t.answered++;
    }
  }
}

function routeKey(source: string, caller: string): string {
  return `${source}|${caller.slice(0, 4)}`;
}

const EMPTY: Readonly<Tally> = Object.freeze(empty());

function tally(map: Map<string, Tally>, key: string): Tally {
  let t = map.get(key);
  if (!t) {
    t = empty();
    map.set(key, t);
  }
  return t;
}
