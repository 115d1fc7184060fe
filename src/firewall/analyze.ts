/**
 * Offline mode: a day of call records in, one score and label per call out. Three passes over the records held in
 * memory: the first builds every range's, caller's and trunk's history from the whole file, the second gives each
 * call its first-stage score and counts it on its range and caller, the third scores each call against all of it,
 * so the first flash calls of a range are judged with everything the day shows about it (a proxy, scoring as calls
 * happen, cannot).
 */
import type { Cdr } from "./cdr.js";
import { FlashClassifier, type Verdict } from "./classifier.js";
import type { FirewallConfig } from "./config.js";
import type { Models } from "./default-model.js";

export interface Analysis {
  records: Cdr[];
  /** per record; `factors` are left empty, `explain` gives them */
  verdicts: Verdict[];
  /** the strongest factors of record `i`'s score */
  explain(i: number): Verdict["factors"];
}

export function analyzeRecords(records: Cdr[], config: FirewallConfig, models?: Models): Analysis {
  const classifier = new FlashClassifier(config, models);
  const h = classifier.history;
  for (const r of records) h.add(r);
  const first = new Float64Array(records.length);
  records.forEach((r, i) => {
    const s = classifier.firstStage(r, h.pair(r.caller, r.callee) - 1);
    first[i] = s;
    h.judge(r.caller, s);
  });
  const verdicts = records.map((r, i) =>
    classifier.scoreEnded(r, h.pair(r.caller, r.callee) - 1, false, first[i] as number),
  );
  const explain = (i: number) => {
    const r = records[i] as Cdr;
    return classifier.scoreEnded(r, h.pair(r.caller, r.callee) - 1, true, first[i] as number).factors;
  };
  return { records, verdicts, explain };
}

/** The analyzer's output: `call_id,flashcall_score,label` with a header line. */
export function* scoreLines(a: Analysis): Generator<string> {
  yield "call_id,flashcall_score,label";
  for (let i = 0; i < a.records.length; i++) {
    const v = a.verdicts[i] as Verdict;
    yield `${csvField((a.records[i] as Cdr).callId)},${v.score.toFixed(4)},${v.label}`;
  }
}

export function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
