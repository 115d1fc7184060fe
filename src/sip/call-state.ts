/**
 * The one state of an outgoing call: the INVITE client transaction's (RFC 3261 §17.1.1.2, with RFC 6026's
 * Accepted) plus the two the UAC core adds for a CANCEL, which §9.1 makes wait for a provisional. Every move goes
 * through `transition`, which throws on a move the RFC does not allow: such a move is a bug in our code, and
 * carrying on would send requests the far end cannot match.
 */

export const CallState = {
  /** §17.1.1.2 "calling": the INVITE is sent and nothing came back; Timers A and B run. */
  Calling: "calling",
  /** §17.1.1.2 "proceeding": a 1xx arrived; Timers A and B stop, and our dial or ring timer bounds the call. */
  Proceeding: "proceeding",
  /**
   * We decided to end the call before any 1xx. §9.1: "If no provisional response has been received, the CANCEL
   * request MUST NOT be sent; rather, the client MUST wait for the arrival of a provisional response before sending
   * the request." Timer B still runs.
   */
  CancelPending: "cancel_pending",
  /** Our CANCEL is sent: waiting for the INVITE's final (487), at most 64*T1 (§9.1). */
  Cancelling: "cancelling",
  /**
   * RFC 6026 §7.2 "accepted": a 2xx arrived and was ACKed (its ACK is the UA core's, §13.2.2.4). The dialog lives
   * from here until its BYE; a flash call sends that BYE at once.
   */
  Accepted: "accepted",
  /**
   * §17.1.1.2 "completed": a 300-699 final arrived and was ACKed. A 401/407 may start a new INVITE transaction
   * carrying credentials (§22.2), which begins again in Calling.
   */
  Completed: "completed",
  /** The record is settled and the call gone from the UAC; Timer D's re-ACKs live on in a FinishedCall. */
  Terminated: "terminated",
} as const;

export type CallState = (typeof CallState)[keyof typeof CallState];

const { Calling, Proceeding, CancelPending, Cancelling, Accepted, Completed, Terminated } = CallState;

/**
 * Allowed moves. A 2xx or 300-699 final can arrive in any state before a final (a 2xx races our CANCEL); a
 * transport error, Timer B or shutdown ends the call from any live state.
 */
const ALLOWED: Readonly<Record<CallState, readonly CallState[]>> = {
  [Calling]: [Proceeding, CancelPending, Accepted, Completed, Terminated],
  [CancelPending]: [Cancelling, Accepted, Completed, Terminated],
  [Proceeding]: [Cancelling, Accepted, Completed, Terminated],
  [Cancelling]: [Accepted, Completed, Terminated],
  [Accepted]: [Terminated],
  [Completed]: [Calling, Terminated],
  [Terminated]: [],
};

/** Thrown for a move the state machine does not allow. */
export class CallStateError extends Error {
  constructor(
    readonly from: CallState,
    readonly to: CallState,
  ) {
    super(`INVITE client transaction: ${from} -> ${to} is not allowed`);
    this.name = "CallStateError";
  }
}

/**
 * Checks a move and returns the new state.
 * @example transition("calling", "proceeding") // "proceeding"; transition("completed", "proceeding") throws
 */
export function transition(from: CallState, to: CallState): CallState {
  if (!ALLOWED[from].includes(to)) throw new CallStateError(from, to);
  return to;
}
