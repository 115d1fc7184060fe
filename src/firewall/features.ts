/**
 * The features a score is made of, each with a name an analyst can read in the explanation. Two sets: at INVITE
 * only the history is known; at the end the call's own outcome joins it. Shares are smoothed towards what ordinary
 * traffic looks like, so a range seen twice is not judged on two calls alone.
 */
import { type CallHistory, type CallOutcome, isShortCancel, SHORT_RING_MS, type Tally } from "./history.js";

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

export const INVITE_FEATURES = [
  "range short-cancel share",
  "caller short-cancel share",
  "trunk short-cancel share",
  "range answered share",
  "caller answered share",
  "caller called this callee before",
  "range volume",
  "caller volume",
  "trunk short-cancel share for the caller's prefix",
] as const;

export const END_FEATURES = [
  ...INVITE_FEATURES,
  "cancelled within seconds of ringing",
  "unanswered, short ring, not cancelled",
  "answered",
  "talk under 3 s",
  "ring time",
  "short cancel x range share",
  "short cancel x caller answered share",
  "short cancel x trunk share for the caller's prefix",
  "short cancel x caller short-cancel share",
] as const;

/** Fills `out` with the INVITE-time features; the pair count is of earlier calls (`pairBefore`). */
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
}

export function inviteFeatures(
  call: CallSetup,
  h: CallHistory,
  out: Float64Array<ArrayBuffer> = new Float64Array(INVITE_FEATURES.length),
) {
  historyFeatures(call, h, h.pair(call.caller, call.callee), out);
  return out;
}

/**
 * End-of-call features. `pairBefore` is how many calls the caller made to this callee besides this one: the proxy
 * passes the count it saw at INVITE; an offline pass that has read everything passes the pair's total minus one.
 */
export function endFeatures(
  call: CallOutcome,
  h: CallHistory,
  pairBefore: number,
  out: Float64Array<ArrayBuffer> = new Float64Array(END_FEATURES.length),
): Float64Array<ArrayBuffer> {
  historyFeatures(call, h, pairBefore, out);
  const short = isShortCancel(call) ? 1 : 0;
  out[9] = short;
  out[10] = !call.answered && call.ringMs < SHORT_RING_MS && call.sipCode !== 487 ? 1 : 0;
  out[11] = call.answered ? 1 : 0;
  out[12] = call.answered && call.talkMs < 3000 ? 1 : 0;
  out[13] = Math.min(call.ringMs, 30_000) / 10_000;
  out[14] = short * (out[0] as number);
  out[15] = short * (out[4] as number);
  out[16] = short * (out[8] as number);
  out[17] = short * (out[1] as number);
  return out;
}
