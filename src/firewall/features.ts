/**
 * The features a score is made of, each with a name an analyst can read in the explanation. At INVITE only the
 * history is known; at the end the call's own outcome joins it. The end-of-call score has two stages: the first
 * (`CALL_FEATURES`) judges the call from its outcome and the counts of its range, caller and trunk; the second
 * (`END_FEATURES`) adds how the first stage judged the other calls of the same range and caller, so a range whose
 * calls mostly look like flash calls carries its few calls that ended otherwise (answered at once, failed fast).
 * Shares are smoothed towards what ordinary traffic looks like, so a range seen twice is not judged on two calls.
 */
import { type CallHistory, type CallOutcome, isBrief, isShortCancel, SHORT_RING_MS, type Tally } from "./history.js";

export interface CallSetup {
  caller: string;
  callee: string;
  source: string;
}

/** Share of ended calls that are short cancels, smoothed with `weight` pseudo-calls at `prior`, as a logit. */
function shortLogit(t: Tally, prior: number, weight: number): number {
  const p = (t.shortCancel + prior * weight) / (t.ended + weight);
  return Math.log(p / (1 - p));
}

function answeredShare(t: Tally, prior: number, weight: number): number {
  return (t.answered + prior * weight) / (t.ended + weight);
}

/** Share of ended calls that ended within seconds (any way), smoothed, as a logit. */
function briefLogit(t: Tally, prior: number, weight: number): number {
  const p = (t.brief + prior * weight) / (t.ended + weight);
  return Math.log(p / (1 - p));
}

/** Share of ended calls answered with a conversation, smoothed. */
function talkedShare(t: Tally, prior: number, weight: number): number {
  return (t.talked + prior * weight) / (t.ended + weight);
}

/** `count` per attempt, smoothed: distinct callers or callees per call. */
function perAttempt(count: number, t: Tally, prior: number, weight: number): number {
  return (count + prior * weight) / (t.attempts + weight);
}

/** What the history says before the call's outcome is known (shared by every stage). */
export const HISTORY_FEATURES = [
  "range short-cancel share",
  "caller short-cancel share",
  "trunk short-cancel share",
  "range answered share",
  "caller answered share",
  "caller called this callee before",
  "range volume",
  "caller volume",
  "trunk short-cancel share for the caller's prefix",
  "range brief-call share",
  "range conversation share",
  "range caller rotation",
  "range callee spread",
  "caller brief-call share",
  "caller conversation share",
  "caller callee spread",
] as const;

/** How flash-like the first stage judged the other calls of the range and of the caller (`Tally.look`). */
const LOOK_FEATURES = ["range: its calls look like flash calls", "caller: its calls look like flash calls"] as const;

export const INVITE_FEATURES = [...HISTORY_FEATURES, ...LOOK_FEATURES] as const;

/** The first stage at the end of a call: history and the call's own outcome. */
export const CALL_FEATURES = [
  ...HISTORY_FEATURES,
  "cancelled within seconds of ringing",
  "unanswered, short ring, not cancelled",
  "answered",
  "talk under 3 s",
  "ring time",
  "short cancel x range share",
  "short cancel x caller answered share",
  "short cancel x trunk share for the caller's prefix",
  "short cancel x caller short-cancel share",
  "ended within seconds",
  "brief x range brief-call share",
  "brief x range caller rotation",
  "brief x range conversation share",
  "brief x caller brief-call share",
  "short cancel x range caller rotation",
] as const;

/** The second stage: the first stage's verdict on this call, and on the range's and caller's other calls. */
export const END_FEATURES = [
  ...CALL_FEATURES,
  "the call's outcome and history",
  ...LOOK_FEATURES,
  "outcome x range look",
  "outcome x caller look",
  // Hinges let a range or caller whose calls clearly look like flash calls carry the call on its own, without
  // pulling on the many ranges and callers that do not.
  "range look, above its usual level",
  "range look, well above it",
  "caller look, above its usual level",
] as const;

/** Features whose weight may only pull towards flash call (model.ts, fitLogistic's `nonNegative`). */
export const MONOTONE_FEATURES: ReadonlySet<string> = new Set([
  ...LOOK_FEATURES,
  "range look, above its usual level",
  "range look, well above it",
  "caller look, above its usual level",
]);

const H = HISTORY_FEATURES.length;
const C = CALL_FEATURES.length;

/** Fills `out` with the history features; the pair count is of earlier calls (`pairBefore`). */
function historyFeatures(call: CallSetup, h: CallHistory, pairBefore: number, out: Float64Array<ArrayBuffer>): void {
  const range = h.range(call.caller);
  const caller = h.caller(call.caller);
  out[0] = shortLogit(range, 0.02, 20);
  out[1] = shortLogit(caller, 0.02, 3);
  out[2] = shortLogit(h.source(call.source), 0.02, 50);
  out[3] = answeredShare(range, 0.6, 20);
  out[4] = answeredShare(caller, 0.6, 3);
  out[5] = pairBefore > 0 ? 1 : 0;
  out[6] = Math.log10(1 + range.attempts);
  out[7] = Math.log10(1 + caller.attempts);
  out[8] = shortLogit(h.route(call.source, call.caller), 0.02, 50);
  out[9] = briefLogit(range, 0.12, 20);
  out[10] = talkedShare(range, 0.5, 20);
  out[11] = perAttempt(range.callers, range, 0.3, 5);
  out[12] = perAttempt(range.pairs, range, 0.5, 5);
  out[13] = briefLogit(caller, 0.12, 3);
  out[14] = talkedShare(caller, 0.5, 3);
  out[15] = perAttempt(caller.pairs, caller, 0.7, 3);
}

/**
 * The first stage's mean verdict over a tally's judged calls, leaving out `own` (this call's, when it was judged
 * already), smoothed towards ordinary traffic, as a logit.
 */
function lookLogit(t: Tally, own: number, weight: number): number {
  const judged = own > 0 ? t.judged - 1 : t.judged;
  const p = (Math.max(0, t.look - own) + 0.02 * weight) / (Math.max(0, judged) + weight);
  return Math.log(p / (1 - p));
}

export function inviteFeatures(
  call: CallSetup,
  h: CallHistory,
  out: Float64Array<ArrayBuffer> = new Float64Array(INVITE_FEATURES.length),
) {
  historyFeatures(call, h, h.pair(call.caller, call.callee), out);
  out[H] = lookLogit(h.range(call.caller), 0, 5);
  out[H + 1] = lookLogit(h.caller(call.caller), 0, 2);
  return out;
}

/**
 * First-stage features. `pairBefore` is how many calls the caller made to this callee besides this one: the proxy
 * passes the count it saw at INVITE; an offline pass that has read everything passes the pair's total minus one.
 */
export function callFeatures(
  call: CallOutcome,
  h: CallHistory,
  pairBefore: number,
  out: Float64Array<ArrayBuffer> = new Float64Array(CALL_FEATURES.length),
): Float64Array<ArrayBuffer> {
  historyFeatures(call, h, pairBefore, out);
  const short = isShortCancel(call) ? 1 : 0;
  const brief = isBrief(call) ? 1 : 0;
  out[H] = short;
  out[H + 1] = !call.answered && call.ringMs < SHORT_RING_MS && call.sipCode !== 487 ? 1 : 0;
  out[H + 2] = call.answered ? 1 : 0;
  out[H + 3] = call.answered && call.talkMs < 3000 ? 1 : 0;
  out[H + 4] = Math.min(call.ringMs, 30_000) / 10_000;
  out[H + 5] = short * (out[0] as number);
  out[H + 6] = short * (out[4] as number);
  out[H + 7] = short * (out[8] as number);
  out[H + 8] = short * (out[1] as number);
  out[H + 9] = brief;
  out[H + 10] = brief * (out[9] as number);
  out[H + 11] = brief * (out[11] as number);
  out[H + 12] = brief * (out[10] as number);
  out[H + 13] = brief * (out[13] as number);
  out[H + 14] = short * (out[11] as number);
  return out;
}

/**
 * Second-stage features: `out` already holds the first stage's (callFeatures), `first` is the first stage's score
 * of this call, which the history's `look` sums already include.
 */
export function endFeatures(call: CallOutcome, h: CallHistory, first: number, out: Float64Array<ArrayBuffer>): void {
  const own = Math.log(Math.max(first, 1e-6) / Math.max(1 - first, 1e-6));
  out[C] = own;
  out[C + 1] = lookLogit(h.range(call.caller), first, 2);
  out[C + 2] = lookLogit(h.caller(call.caller), first, 2);
  out[C + 3] = own * (out[C + 1] as number);
  out[C + 4] = own * (out[C + 2] as number);
  out[C + 5] = Math.max(0, (out[C + 1] as number) + 1);
  out[C + 6] = Math.max(0, (out[C + 1] as number) - 1);
  out[C + 7] = Math.max(0, (out[C + 2] as number) + 1);
}
