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
  /** ended within seconds: unanswered after a ring under SHORT_RING_MS (cancelled or failed), or answered and hung
   * up within TALK_BRIEF_MS */
  brief: number;
  /** answered with a conversation (talk of TALK_BRIEF_MS or more) */
  talked: number;
  /** distinct callers (counted on ranges only: how widely a range rotates its caller IDs) */
  callers: number;
  /** distinct caller->callee pairs (how many different people a range or caller reaches) */
  pairs: number;
  /** ended calls the first end-of-call stage judged (ranges and callers), and the sum of its scores */
  judged: number;
  look: number;
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

/** Talk shorter than this is a hang-up on answer, not a conversation. */
export const TALK_BRIEF_MS = 3000;

export function isShortCancel(call: CallOutcome): boolean {
  return !call.answered && call.ringMs < SHORT_RING_MS && call.sipCode === 487;
}

/** Ended within seconds, whichever way: what a flash-call sender's calls do when they are not a short cancel. */
export function isBrief(call: CallOutcome): boolean {
  return call.answered ? call.talkMs < TALK_BRIEF_MS : call.ringMs < SHORT_RING_MS;
}

/**
 * The calling range of a number: the number without its last `digits` digits, which is how flash-call senders
 * hold their caller IDs (the last digits are the code).
 * @example callingRange("+442079412345", 4) // "+44207941xxxx"
 */
export function callingRange(number: string, digits: number): string {
  return `${number.slice(0, Math.max(2, number.length - digits))}${"x".repeat(Math.min(digits, number.length - 2))}`;
}

const empty = (): Tally => ({
  attempts: 0,
  ended: 0,
  shortCancel: 0,
  answered: 0,
  brief: 0,
  talked: 0,
  callers: 0,
  pairs: 0,
  judged: 0,
  look: 0,
});

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
    const range = tally(this.ranges, callingRange(caller, this.rangeDigits));
    const c = this.count(range, caller, callee);
    range.attempts++;
    c.attempts++;
    tally(this.sources, source).attempts++;
    tally(this.routes, routeKey(source, caller)).attempts++;
  }

  /** The caller's tally; counts a new caller and a new pair on the range (and the pair on the caller). */
  private count(range: Tally, caller: string, callee: string): Tally {
    let c = this.callers.get(caller);
    if (!c) {
      c = empty();
      this.callers.set(caller, c);
      range.callers++;
    }
    const key = `${caller}>${callee}`;
    const before = this.pairs.get(key) ?? 0;
    if (before === 0) {
      range.pairs++;
      c.pairs++;
    }
    this.pairs.set(key, before + 1);
    return c;
  }

  /** Counts an attempt and its outcome at once (the offline pass: one lookup per table instead of two). */
  add(call: CallOutcome): void {
    const range = tally(this.ranges, callingRange(call.caller, this.rangeDigits));
    const caller = this.count(range, call.caller, call.callee);
    for (const t of [
      range,
      caller,
      tally(this.sources, call.source),
      tally(this.routes, routeKey(call.source, call.caller)),
    ]) {
      t.attempts++;
      outcome(t, call);
    }
  }

  /** Counts the outcome of a call whose attempt was counted. */
  end(call: CallOutcome): void {
    for (const t of [
      tally(this.ranges, callingRange(call.caller, this.rangeDigits)),
      tally(this.callers, call.caller),
      tally(this.sources, call.source),
      tally(this.routes, routeKey(call.source, call.caller)),
    ])
      outcome(t, call);
  }

  /** Counts the first end-of-call stage's score of an ended call on its range and caller. */
  judge(caller: string, score: number): void {
    for (const t of [tally(this.ranges, callingRange(caller, this.rangeDigits)), tally(this.callers, caller)]) {
      t.judged++;
      t.look += score;
    }
  }
}

function outcome(t: Tally, call: CallOutcome): void {
  t.ended++;
  if (isShortCancel(call)) t.shortCancel++;
  if (isBrief(call)) t.brief++;
  if (call.answered) {
    t.answered++;
    if (call.talkMs >= TALK_BRIEF_MS) t.talked++;
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
