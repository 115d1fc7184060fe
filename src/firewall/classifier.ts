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
import { type CallSetup, endFeatures, inviteFeatures } from "./features.js";
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

  /** Scores a call set-up, then counts it as an attempt of its range, caller and trunk. */
  atInvite(call: CallSetup): InviteVerdict {
    const pairBefore = this.history.pair(call.caller, call.callee);
    const verdict = this.judge(call.caller, this.models.invite, () =>
      inviteFeatures(call, this.history, this.inviteBuffer),
    );
    this.history.attempt(call.caller, call.callee, call.source);
    return { ...verdict, pairBefore };
  }

  /** Counts a call's outcome, then scores it. */
  atEnd(call: CallOutcome, pairBefore: number): Verdict {
    this.history.end(call);
    return this.scoreEnded(call, pairBefore);
  }

  /**
   * Scores an ended call against the history as it stands, without counting it (the offline second pass).
   * `explain: false` leaves `factors` empty (the offline pass explains only the calls its report shows).
   */
  scoreEnded(call: CallOutcome, pairBefore: number, explain = true): Verdict {
    return this.judge(
      call.caller,
      this.models.end,
      () => endFeatures(call, this.history, pairBefore, this.endBuffer),
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
    explain = true,
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
    return {
      score: s,
      label: s >= model.threshold ? "flashcall" : "other",
      sender: sender.kind,
      senderName: sender.name,
      range,
      factors: explain ? topFactors(model, x) : [],
    };
  }
}
