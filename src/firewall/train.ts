/**
 * Fitting and measuring the classifier on labelled traffic. The INVITE-time model learns from features as a proxy
 * would have them (each call scored before it is counted, in start order); the end-of-call model from features as
 * the offline analyzer has them (the whole day counted first). `evaluate` reports recall and false positives at the
 * call level, overall and per population, which is how docs/firewall.md's table is made.
 */

import { analyzeRecords } from "./analyze.js";
import type { Cdr } from "./cdr.js";
import { FlashClassifier } from "./classifier.js";
import type { FirewallConfig } from "./config.js";
import type { Models } from "./default-model.js";
import {
  CALL_FEATURES,
  callFeatures,
  END_FEATURES,
  endFeatures,
  INVITE_FEATURES,
  inviteFeatures,
  MONOTONE_FEATURES,
} from "./features.js";
import { CallHistory } from "./history.js";
import { fitLogistic, score } from "./model.js";

export interface Labelled {
  cdr: Cdr;
  flash: boolean;
  population: string;
}

export function trainModels(calls: readonly Labelled[], config: FirewallConfig): Models {
  const labels = Uint8Array.from(calls, (c) => (c.flash ? 1 : 0));
  // The end-of-call stages learn from the whole day, as the offline analyzer sees it.
  const day = new CallHistory(config.range_digits);
  for (const c of calls) day.add(c.cdr);
  const pairsBefore = calls.map((c) => day.pair(c.cdr.caller, c.cdr.callee) - 1);
  const callRows = calls.map((c, i) => callFeatures(c.cdr, day, pairsBefore[i] as number));
  const call = fitLogistic(CALL_FEATURES, callRows, labels);
  const firsts = callRows.map((x) => score(call, x));
  for (const [i, c] of calls.entries()) day.judge(c.cdr.caller, firsts[i] as number);
  const endRows = calls.map((c, i) => {
    const x = new Float64Array(END_FEATURES.length);
    x.set(callRows[i] as Float64Array);
    endFeatures(c.cdr, day, firsts[i] as number, x);
    return x;
  });
  const end = fitLogistic(END_FEATURES, endRows, labels, { nonNegative: MONOTONE_FEATURES });
  // The INVITE-time model learns as a proxy would have it: each call scored before it is counted, in start order.
  const live = new CallHistory(config.range_digits);
  const inviteRows = calls.map((c) => {
    const pairBefore = live.pair(c.cdr.caller, c.cdr.callee);
    const x = inviteFeatures(c.cdr, live);
    live.attempt(c.cdr.caller, c.cdr.callee, c.cdr.source);
    live.end(c.cdr);
    live.judge(c.cdr.caller, score(call, callFeatures(c.cdr, live, pairBefore)));
    return x;
  });
  const invite = fitLogistic(INVITE_FEATURES, inviteRows, labels, {
    maxFalsePositiveShare: 0.005,
    nonNegative: MONOTONE_FEATURES,
  });
  return { invite, call, end };
}

export interface Evaluation {
  calls: number;
  flash: number;
  other: number;
  truePositives: number;
  falsePositives: number;
  recall: number;
  falsePositiveShare: number;
  /** per population: calls and how many were labelled flashcall */
  populations: Record<string, { calls: number; flagged: number }>;
}

/**
 * As the proxy would have labelled the calls: in start order, each scored at INVITE (`stage: "invite"`) or at its
 * end (`"end"`) against the history of the calls before it (an outcome is counted when the call ends, here at once).
 */
export function replayLabels(
  calls: readonly Labelled[],
  config: FirewallConfig,
  stage: "invite" | "end",
  models?: Models,
): boolean[] {
  const classifier = new FlashClassifier(config, models);
  return calls.map(({ cdr }) => {
    const early = classifier.atInvite(cdr);
    const late = classifier.atEnd(cdr, early.pairBefore);
    return (stage === "invite" ? early : late).label === "flashcall";
  });
}

export function evaluate(
  calls: readonly Labelled[],
  config: FirewallConfig,
  models?: Models,
  replay: "invite" | "end" | null = null,
): Evaluation {
  const flags = replay
    ? replayLabels(calls, config, replay, models)
    : analyzeRecords(
        calls.map((c) => c.cdr),
        config,
        models,
      ).verdicts.map((v) => v.label === "flashcall");
  const e: Evaluation = {
    calls: calls.length,
    flash: 0,
    other: 0,
    truePositives: 0,
    falsePositives: 0,
    recall: 0,
    falsePositiveShare: 0,
    populations: {},
  };
  calls.forEach((c, i) => {
    const flagged = flags[i] === true;
    const p = e.populations[c.population] ?? { calls: 0, flagged: 0 };
    e.populations[c.population] = p;
    p.calls++;
    if (flagged) p.flagged++;
    if (c.flash) {
      e.flash++;
      if (flagged) e.truePositives++;
    } else {
      e.other++;
      if (flagged) e.falsePositives++;
    }
  });
  e.recall = e.flash ? e.truePositives / e.flash : 0;
  e.falsePositiveShare = e.other ? e.falsePositives / e.other : 0;
  return e;
}

/** The models as the TypeScript module default-model.ts holds them. */
export function modelModule(models: Models, provenance: string): string {
  const json = (v: unknown) => JSON.stringify(v, null, 2);
  return `/**
 * The default models, fitted by ${provenance}
 * Regenerate rather than edit by hand: the numbers belong together.
 */
import type { LinearModel } from "./model.js";

export interface Models {
  /** scores a call set-up from history alone */
  invite: LinearModel;
  /** first end-of-call stage: an ended call from its outcome and its counts */
  call: LinearModel;
  /** second end-of-call stage: adds the first stage's verdicts on the range's and caller's other calls */
  end: LinearModel;
}

export const DEFAULT_MODELS: Models = ${json(models)};
`;
}
