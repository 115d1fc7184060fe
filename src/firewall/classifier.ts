/**
 * The flash-call classifier: scores a call at INVITE (from what its calling range, caller and trunk have done so
 * far) and again when it ends (with its own outcome), and says why. Known senders and never-flag numbers are
 * decided by configuration before any model runs.
 *
 * @example
 * const c = new FlashClassifier(config);
 * const early = c.atInvite({ caller, callee, source }); // early.score, early.factors
 * const late = c.atEnd({ caller, callee, source, answered: false, ringMs: 1800, talkMs: 0, sipCode: 487 }, early.pairBefore);
 */
import type { FirewallConfig } from "./config.js";
import { DEFAULT_MODELS, type Models } from "./default-model.js";
import { type CallSetup, callFeatures, endFeatures, inviteFeatures } from "./features.js";
import { CallHistory, type CallOutcome, callingRange } from "./history.js";
import { type Factor, type LinearModel, score, topFactors } from "./model.js";

export type SenderKind = "known" | "never" | "unknown";

export interface Verdict {
  score: number;
  label: "flashcall" | "other";
  sender: SenderKind;
  /** the known sender's name */
  senderName: string | null;
  range: string;
  factors: Factor[];
}

/**
 * Which scores list their factors (sorting the features costs more than scoring them): all (`true`), none
 * (`false`), the ones labelled `flashcall`, or the ones at or above a score.
 */
export type Explain = boolean | "flagged" | number;

export interface InviteVerdict extends Verdict {
  /** calls from this caller to this callee before this one: hand it back to atEnd */
  pairBefore: number;
}

export class FlashClassifier {
  readonly history: CallHistory;
  private readonly known: { prefix: string; name: string }[];
  private readonly inviteBuffer: Float64Array<ArrayBuffer>;
  private readonly endBuffer: Float64Array<ArrayBuffer>;

  constructor(
    readonly config: FirewallConfig,
    readonly models: Models = DEFAULT_MODELS,
  ) {
    this.history = new CallHistory(config.range_digits);
    this.known = config.known_senders
      .flatMap((s) => s.ranges.map((prefix) => ({ prefix, name: s.name })))
      .sort((a, b) => b.prefix.length - a.prefix.length);
    this.inviteBuffer = new Float64Array(models.invite.names.length);
    this.endBuffer = new Float64Array(models.end.names.length);
  }

  /**
   * Scores a call set-up, then counts it as an attempt of its range, caller and trunk. `explain` says whether
   * to list the factors (the proxy explains only the calls it tags).
   */
  atInvite(call: CallSetup, explain: Explain = true): InviteVerdict {
    const pairBefore = this.history.pair(call.caller, call.callee);
    const verdict = this.judge(
      call.caller,
      this.models.invite,
      () => inviteFeatures(call, this.history, this.inviteBuffer),
      explain,
    );
    this.history.attempt(call.caller, call.callee, call.source);
    return { ...verdict, pairBefore };
  }

  /** Counts a call's outcome and its first-stage score, then scores it. */
  atEnd(call: CallOutcome, pairBefore: number, explain: Explain = true): Verdict {
    this.history.end(call);
    // The first stage's features do not depend on the verdicts counted next: the second stage reuses them.
    const first = this.firstStage(call, pairBefore);
    this.history.judge(call.caller, first);
    return this.secondStage(call, first, explain, false, pairBefore);
  }

  /** The first end-of-call stage's score: the call's outcome and its counts, before its range's verdicts. */
  firstStage(call: CallOutcome, pairBefore: number): number {
    return score(this.models.call, callFeatures(call, this.history, pairBefore, this.endBuffer));
  }

  /**
   * Scores an ended call against the history as it stands, without counting it (the offline last pass, once every
   * call's outcome and first-stage score are counted). `first` is the call's first-stage score when the caller has
   * it already. `explain: false` leaves `factors` empty (the offline pass explains only the calls its report shows).
   */
  scoreEnded(call: CallOutcome, pairBefore: number, explain = true, first?: number): Verdict {
    if (first === undefined) return this.secondStage(call, this.firstStage(call, pairBefore), explain, false, 0);
    return this.secondStage(call, first, explain, true, pairBefore);
  }

  /** The second stage; `fill` says whether endBuffer still has to be filled with the first stage's features. */
  private secondStage(call: CallOutcome, first: number, explain: Explain, fill: boolean, pairBefore: number): Verdict {
    return this.judge(
      call.caller,
      this.models.end,
      () => {
        const x = fill ? callFeatures(call, this.history, pairBefore, this.endBuffer) : this.endBuffer;
        endFeatures(call, this.history, first, x);
        return x;
      },
      explain,
    );
  }

  /** Known sender, never-flag or unknown, by the longest matching prefix. */
  sender(caller: string): { kind: SenderKind; name: string | null } {
    for (const p of this.config.never_flag) if (caller.startsWith(p)) return { kind: "never", name: null };
    for (const k of this.known) if (caller.startsWith(k.prefix)) return { kind: "known", name: k.name };
    return { kind: "unknown", name: null };
  }

  private judge(
    caller: string,
    model: LinearModel,
    features: () => Float64Array<ArrayBuffer>,
    explain: Explain = true,
  ): Verdict {
    const range = callingRange(caller, this.config.range_digits);
    const sender = this.sender(caller);
    if (sender.kind === "never") {
      return {
        score: 0,
        label: "other",
        sender: "never",
        senderName: null,
        range,
        factors: [{ feature: "never-flag list", weight: 0 }],
      };
    }
    const x = features();
    const s = score(model, x);
    const flagged = s >= model.threshold;
    const explained = typeof explain === "number" ? s >= explain : explain === "flagged" ? flagged : explain;
    return {
      score: s,
      label: flagged ? "flashcall" : "other",
      sender: sender.kind,
      senderName: sender.name,
      range,
      factors: explained ? topFactors(model, x) : [],
    };
  }
}
