/**
 * One flash call: the RFC 3261 INVITE client transaction (§17.1.1) plus the bits of UAC core a flash call needs —
 * CANCEL after the ring time (§9.1), ACK for non-2xx finals, ACK + BYE when the phone answers anyway — ending in
 * exactly one CallRecord. Once the record is settled a small FinishedCall takes over for Timer D, re-ACKing
 * retransmitted finals and hanging up late 2xx.
 *
 * Timers, all on the shared wheel: `retransmit` (Timer A), `deadline` (Timer B while no response; after a CANCEL,
 * the 64*T1 wait for the INVITE's final) and `dial` (maxDialMs until the first 18x, then ringTimeMs).
 *
 * The record's reason is decided when it settles, from what the network showed by then, never when a CANCEL is
 * requested: under load `cancel()` often runs while the 100 and 180 are still unread in the socket buffer, and such
 * a call did ring. Only the dial deadline fixes a reason early, because `no_answer` and `timeout` mean "nothing
 * rang within maxDialMs"; a ring after that still sets `ringingAt`.
 */
import { reasonForFinal } from "./call-reason.js";
import { invokeCallback } from "./callbacks.js";
import { newBranch, newCallId, newTag } from "./ids.js";
import { headerParam, type SipMessage } from "./message.js";
import { NonInviteClientTransaction } from "./non-invite-transaction.js";
import {
  type CallIdentity,
  cancelRequest,
  dialogRequests,
  inviteRequest,
  nonSuccessAck,
  type RequestContext,
} from "./requests.js";
import type { TimerHandle } from "./timer-wheel.js";
import type { TransactionContext } from "./transaction-context.js";
import type { CallReason, CallRecord, PlaceCallOptions } from "./types.js";

/** What a call needs from its UAC. */
export interface CallContext extends TransactionContext, RequestContext {
  readonly now: () => number;
  /** BYE transactions outlive their call record; the UAC routes their responses by branch. */
  readonly byes: Map<string, NonInviteClientTransaction>;
  /** Called once when the record is settled, with what must linger for Timer D. */
  ended(branch: string, finished: FinishedCall): void;
}

export class OutgoingCall {
  readonly id: CallIdentity;
  readonly startedAt: number;
  private readonly ringTimeMs: number;
  private readonly maxDialMs: number;
  private onRinging: ((at: number) => void) | undefined;
  private invite: Buffer | null = null;
  private interval: number;
  private retransmit: TimerHandle | null = null;
  private deadline: TimerHandle | null = null;
  private dial: TimerHandle | null = null;
  /** Any response arrived (a socket error then cannot be ours). */
  responded = false;
  private provisional = false;
  private ringingAt: number | null = null;
  /** We decided to end the call: CANCEL now, or as soon as a provisional allows it. */
  private cancelRequested = false;
  /** Set when maxDialMs passed without a 18x: what the record says if that CANCEL ends the call. */
  private dialExpired: CallReason | null = null;
  private cancelTx: NonInviteClientTransaction | null = null;
  /** To tags of the dialogs a 2xx created, with the ACK each got. */
  private dialogs: Map<string, Buffer> | null = null;
  private settled = false;
  private resolve!: (record: CallRecord) => void;
  readonly done: Promise<CallRecord>;

  constructor(
    private readonly ctx: CallContext,
    options: PlaceCallOptions,
    callId: string = newCallId(),
  ) {
    this.id = { callId, branch: newBranch(), fromTag: newTag(), to: options.to, cli: options.cli };
    this.startedAt = ctx.now();
    this.ringTimeMs = options.ringTimeMs;
    this.maxDialMs = options.maxDialMs;
    this.onRinging = options.onRinging;
    this.interval = ctx.t1;
    this.done = new Promise((resolve) => {
      this.resolve = resolve;
    });
  }

  /** Sends the INVITE and arms Timers A and B and the dial deadline. */
  start(): void {
    const { ctx } = this;
    this.invite = Buffer.from(inviteRequest(ctx, this.id));
    ctx.send(this.invite, this.onSendError);
    this.retransmit = ctx.wheel.schedule(this.interval, this.onTimerA);
    this.deadline = ctx.wheel.schedule(ctx.timerB, this.onTimerB);
    this.dial = ctx.wheel.schedule(this.maxDialMs, this.onMaxDial);
  }

  /** Ends the call early: CANCEL now if a provisional arrived, else as soon as one does (or Timer B). */
  cancel(): void {
    this.requestCancel();
  }

  /** Feeds a response whose top Via branch is ours. */
  onResponse(msg: SipMessage): void {
    this.responded = true;
    if (msg.cseqMethod === "CANCEL") this.cancelTx?.onResponse(msg.status);
    else if (msg.cseqMethod === "INVITE") this.onInviteResponse(msg);
  }

  /** Ends the call at once with `reason` (socket errors). */
  fail(reason: CallReason): void {
    this.finish(reason, null, null);
  }

  /** Shutdown: one CANCEL without retransmissions if one is due, then the record. */
  abandon(): void {
    if (this.settled) return;
    if (this.provisional && !this.cancelTx) this.ctx.send(Buffer.from(cancelRequest(this.ctx, this.id)), noop);
    this.finish(this.cancelledReason(), null, null);
  }

  private onInviteResponse(msg: SipMessage): void {
    const status = msg.status;
    if (status < 200) {
      this.onProvisional(status);
    } else if (status < 300) {
      this.dialogs = acknowledgeSuccess(this.ctx, this.id, this.dialogs, msg);
      this.finish("answered", status, msg.reason);
    } else {
      this.ctx.send(Buffer.from(nonSuccessAck(this.ctx, this.id, msg)), noop);
      // A 487 answers our CANCEL only if we sent one; otherwise the far end terminated the call on its own.
      const reason = status === 487 && this.cancelTx ? this.cancelledReason() : reasonForFinal(status);
      this.finish(reason, status, msg.reason);
    }
  }

  private onProvisional(status: number): void {
    if (!this.provisional) {
      this.provisional = true;
      // Proceeding: Timer A and Timer B no longer apply (§17.1.1.2); our own timers bound the call from here.
      this.retransmit?.cancel();
      this.deadline?.cancel();
      this.invite = null;
      if (this.cancelRequested) this.sendCancel();
    }
    if ((status !== 180 && status !== 183) || this.ringingAt !== null) return;
    this.ringingAt = this.ctx.now();
    // A ring after we decided to cancel (the CANCEL crossed it, or it was still unread) is still a ring: the
    // caller ID reached the phone. Only the ring timer is moot then.
    if (!this.cancelRequested) {
      this.dial?.cancel();
      if (this.ringTimeMs <= 0) this.requestCancel();
      else this.dial = this.ctx.wheel.schedule(this.ringTimeMs, this.onRingTimeElapsed);
    }
    invokeCallback(this.onRinging, this.ringingAt, "onRinging");
  }

  private requestCancel(): void {
    if (this.cancelRequested || this.settled) return;
    this.cancelRequested = true;
    this.dial?.cancel();
    // §9.1: no CANCEL before a provisional. Timer B keeps running and a late provisional triggers the CANCEL.
    if (this.provisional) this.sendCancel();
  }

  private sendCancel(): void {
    if (this.cancelTx) return;
    const request = Buffer.from(cancelRequest(this.ctx, this.id));
    this.cancelTx = new NonInviteClientTransaction(this.ctx, request, noop, this.onSendError);
    this.cancelTx.start();
    // §9.1: without a final for the INVITE 64*T1 after the CANCEL, consider it cancelled.
    this.deadline?.cancel();
    this.deadline = this.ctx.wheel.schedule(this.ctx.timerB, () => this.finish(this.cancelledReason(), null, null));
  }

  /**
   * The reason of a call we ended ourselves (487 to our CANCEL, no final after it, shutdown), decided as it
   * settles: what the dial deadline concluded, else what the network has shown by now.
   */
  private cancelledReason(): CallReason {
    if (this.dialExpired) return this.dialExpired;
    if (this.ringingAt !== null) return "ringing_canceled";
    return this.provisional ? "no_answer" : "timeout";
  }

  private finish(reason: CallReason, finalCode: number | null, reasonHeader: string | null): void {
    if (this.settled) return;
    this.settled = true;
    this.retransmit?.cancel();
    this.deadline?.cancel();
    this.dial?.cancel();
    this.cancelTx?.stop();
    this.invite = null;
    this.onRinging = undefined;
    this.ctx.ended(this.id.branch, new FinishedCall(this.ctx, this.id, this.dialogs));
    this.resolve({
      callId: this.id.callId,
      startedAt: this.startedAt,
      ringingAt: this.ringingAt,
      endedAt: this.ctx.now(),
      finalCode,
      reason,
      reasonHeader,
    });
  }

  private readonly onTimerA = (): void => {
    if (!this.invite) return;
    this.ctx.send(this.invite, this.onSendError);
    this.interval *= 2;
    this.retransmit = this.ctx.wheel.schedule(this.interval, this.onTimerA);
  };

  private readonly onTimerB = (): void => {
    if (!this.provisional) this.finish("timeout", null, null);
  };

  /** Armed until the first 18x, so nothing has rung yet. */
  private readonly onMaxDial = (): void => {
    this.dialExpired = this.provisional ? "no_answer" : "timeout";
    this.requestCancel();
  };

  private readonly onRingTimeElapsed = (): void => {
    this.requestCancel();
  };

  private readonly onSendError = (): void => {
    this.finish("network_error", null, null);
  };
}

/**
 * A settled call during Timer D: it re-ACKs retransmitted (or late) non-2xx finals and ACKs each 2xx, hanging up
 * every dialog once. Kept small on purpose: thousands of these live at once.
 */
export class FinishedCall {
  constructor(
    private readonly ctx: CallContext,
    private readonly id: CallIdentity,
    private dialogs: Map<string, Buffer> | null,
  ) {}

  onResponse(msg: SipMessage): void {
    if (msg.cseqMethod !== "INVITE" || msg.status < 200) return;
    if (msg.status < 300) this.dialogs = acknowledgeSuccess(this.ctx, this.id, this.dialogs, msg);
    else this.ctx.send(Buffer.from(nonSuccessAck(this.ctx, this.id, msg)), noop);
  }
}

/**
 * A 2xx: the phone answered (perhaps racing our CANCEL). The first 2xx of each dialog gets an ACK and a BYE;
 * its retransmissions get the same ACK again (our ACK was lost).
 */
function acknowledgeSuccess(
  ctx: CallContext,
  id: CallIdentity,
  dialogs: Map<string, Buffer> | null,
  msg: SipMessage,
): Map<string, Buffer> {
  const known = dialogs ?? new Map<string, Buffer>();
  const tag = headerParam(msg.to ?? "", "tag") ?? "";
  const previous = known.get(tag);
  if (previous) {
    ctx.send(previous, noop);
    return known;
  }
  const byeBranch = newBranch();
  const requests = dialogRequests(ctx, id, msg, { ack: newBranch(), bye: byeBranch });
  const ack = Buffer.from(requests.ack);
  known.set(tag, ack);
  ctx.send(ack, noop);
  const byes = ctx.byes;
  const bye = new NonInviteClientTransaction(ctx, Buffer.from(requests.bye), () => byes.delete(byeBranch), noop);
  byes.set(byeBranch, bye);
  bye.start();
  return known;
}

function noop(): void {}
