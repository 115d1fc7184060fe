/**
 * The little state a stateless proxy keeps to see how calls end (RFC 3261 leaves a stateless proxy none; we keep
 * only this, never a retransmission timer): per Call-ID, when the INVITE came, where it went, when it rang, was
 * cancelled, answered, and when it ended. A call whose end the proxy never sees (a lost BYE) is closed by age.
 */
import type { InviteVerdict } from "../classifier.js";
import type { CallOutcome } from "../history.js";
import type { Action } from "./policy.js";

export interface TrackedCall {
  caller: string;
  callee: string;
  source: string;
  cseq: number;
  verdict: InviteVerdict | null;
  action: Action;
  /** where requests to us for this call go: host:port */
  host: string;
  port: number;
  setupAt: number;
  ringAt: number;
  cancelAt: number;
  answeredAt: number;
  /** 0 until the final response (or the end, for an answered call) */
  finalCode: number;
  endedAt: number;
}

/** How long an ended call is remembered, to absorb the ACK and retransmissions (Timer H/J, 64 x T1). */
const LINGER_MS = 32_000;
/** A call set-up with no final response after this long is closed as timed out. */
const SETUP_LIMIT_MS = 180_000;
/** An answered call with no BYE after this long is closed (its BYE took another path). */
const TALK_LIMIT_MS = 4 * 3_600_000;

export class CallTracker {
  readonly calls = new Map<string, TrackedCall>();

  constructor(private readonly onEnd: (call: TrackedCall, outcome: CallOutcome) => void) {}

  get(callId: string): TrackedCall | undefined {
    return this.calls.get(callId);
  }

  add(callId: string, call: TrackedCall): void {
    this.calls.set(callId, call);
  }

  /** A response to the INVITE. Challenges (401/407) do not end a call: its authenticated INVITE follows. */
  inviteResponse(call: TrackedCall, status: number, now: number): void {
    if (call.endedAt) return;
    if (status >= 180 && status < 200 && !call.ringAt) call.ringAt = now;
    else if (status >= 200 && status < 300 && !call.answeredAt) call.answeredAt = now;
    else if (status >= 300 && status !== 401 && status !== 407) this.end(call, status, now);
  }

  cancel(call: TrackedCall, now: number): void {
    if (!call.cancelAt && !call.answeredAt) call.cancelAt = now;
  }

  bye(call: TrackedCall, now: number): void {
    if (call.answeredAt && !call.endedAt) this.end(call, 200, now);
  }

  end(call: TrackedCall, code: number, now: number): void {
    call.finalCode = code;
    call.endedAt = now;
    const answered = call.answeredAt > 0;
    const ringEnd = answered ? call.answeredAt : call.cancelAt || now;
    this.onEnd(call, {
      caller: call.caller,
      callee: call.callee,
      source: call.source,
      answered,
      ringMs: Math.max(0, ringEnd - call.setupAt),
      talkMs: answered ? Math.max(0, now - call.answeredAt) : 0,
      sipCode: code,
    });
  }

  /** Closes calls that outlived their limits and forgets ended ones after the linger. */
  sweep(now: number): void {
    for (const [id, call] of this.calls) {
      if (call.endedAt) {
        if (now - call.endedAt > LINGER_MS) this.calls.delete(id);
      } else if (call.answeredAt ? now - call.answeredAt > TALK_LIMIT_MS : now - call.setupAt > SETUP_LIMIT_MS) {
        this.end(call, call.answeredAt ? 200 : 408, now);
      }
    }
  }
}
