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
import { type DigestClient, parseChallenges } from "./digest.js";
import { newBranch, newCallId, newTag } from "./ids.js";
import { headerParam, type SipMessage } from "./message.js";
import { NonInviteClientTransaction } from "./non-invite-transaction.js";
import {
  type CallIdentity,
  cancelRequest,
  dialogRequests,
  type InviteExtras,
  inviteRequest,
  nonSuccessAck,
  type RequestContext,
  requestUri,
} from "./requests.js";
import type { TimerHandle } from "./timer-wheel.js";
import type { TransactionContext } from "./transaction-context.js";
import type { CallReason, CallRecord, PlaceCallOptions } from "./types.js";

/** What a call needs from its UAC. */
export interface CallContext extends TransactionContext, RequestContext {
  readonly now: () => number;
  /** Non-INVITE transactions outliving their call (BYEs), by branch; the UAC routes their responses. */
  readonly transactions: Map<string, NonInviteClientTransaction>;
  /** Answers 401/407 challenges; null without credentials (a challenge then ends the call `auth_failed`). */
  readonly digest: DigestClient | null;
  /** The call re-sent its INVITE on a new branch; responses to the old one (retransmitted challenges) still reach it. */
  rebranched(branch: string, call: OutgoingCall): void;
  /**
   * Called once when the record is settled, with what must linger for Timer D and the branches of INVITEs the
   * call replaced (null when none).
   */
  ended(branch: string, finished: FinishedCall, replaced: readonly string[] | null): void;
}

export class OutgoingCall {
  readonly id: CallIdentity;
  readonly startedAt: number;
  private readonly ringTimeMs: number;
  private readonly maxDialMs: number;
  private onRinging: ((at: number) => void) | undefined;
  private extras: InviteExtras;
  /** The nonce our current INVITE answered, to forget it when the server refuses that answer. */
  private authNonce: string | null = null;
  /** Challenges answered with a re-sent INVITE (at most one, plus one `stale=true`). */
  private challengesAnswered = 0;
  private staleRetried = false;
  /** Branches of the INVITEs a re-sent one replaced. */
  private replaced: string[] | null = null;
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
    this.id = {
      callId,
      branch: newBranch(),
      cseq: 1,
      fromTag: newTag(),
      toUser: options.toUser ?? options.to,
      cliUser: options.cliUser ?? options.cli,
    };
    const preemptive = ctx.digest?.preemptive("INVITE", requestUri(ctx, this.id)) ?? null;
    this.authNonce = preemptive?.nonce ?? null;
    this.extras = {
      pAssertedIdentity: options.pAssertedIdentity ?? true,
      headers: options.headers?.length ? options.headers.map(([name, value]) => `${name}: ${value}`) : null,
      authorization: preemptive?.line ?? null,
    };
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
    this.sendInvite();
    this.dial = this.ctx.wheel.schedule(this.maxDialMs, this.onMaxDial);
  }

  /** A new INVITE client transaction: send, Timer A (unreliable transports only, §17.1.1.2) and Timer B. */
  private sendInvite(): void {
    const { ctx } = this;
    this.invite = Buffer.from(inviteRequest(ctx, this.id, this.extras));
    ctx.send(this.invite, this.onSendError);
    this.interval = ctx.t1;
    if (!ctx.reliable) this.retransmit = ctx.wheel.schedule(this.interval, this.onTimerA);
    this.deadline = ctx.wheel.schedule(ctx.timerB, this.onTimerB);
  }

  /** Ends the call early: CANCEL now if a provisional arrived, else as soon as one does (or Timer B). */
  cancel(): void {
    this.requestCancel();
  }

  /** Feeds a response whose top Via branch is ours (the current INVITE's, or one it replaced). */
  onResponse(msg: SipMessage): void {
    this.responded = true;
    if (msg.cseq !== this.id.cseq) {
      // A retransmitted final of an INVITE we re-sent with credentials: its ACK was lost.
      if (msg.cseqMethod === "INVITE" && msg.status >= 300) this.ackReplaced(msg);
      return;
    }
    if (msg.cseqMethod === "CANCEL") this.cancelTx?.onResponse(msg.status);
    else if (msg.cseqMethod === "INVITE") this.onInviteResponse(msg);
  }

  /** Ends the call at once with `reason` (socket errors). */
  fail(reason: CallReason): void {
    this.finish(reason, null, null);
  }

  /**
   * The TCP/TLS connection closed: no response can reach this call any more. One CANCEL for the INVITE on the
   * next connection (even before a provisional, which may have been lost with the connection), then the record.
   */
  connectionLost(): void {
    if (this.settled) return;
    if (!this.cancelTx) this.ctx.send(Buffer.from(cancelRequest(this.ctx, this.id)), noop);
    this.finish("network_error", null, null);
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
      this.dialogs = acknowledgeSuccess(this.ctx, this.id, this.dialogs, msg, this.extras.authorization);
      this.finish("answered", status, msg.reason);
    } else {
      this.ctx.send(Buffer.from(nonSuccessAck(this.ctx, this.id, msg)), noop);
      const challenged = status === 401 || status === 407;
      if (challenged && this.answerChallenge(msg)) return;
      // A 487 answers our CANCEL only if we sent one; otherwise the far end terminated the call on its own. A
      // challenge we left unanswered because we were ending the call is no authentication failure either.
      const ours = (status === 487 && this.cancelTx) || (challenged && this.cancelRequested && this.ctx.digest);
      const reason = ours ? this.cancelledReason() : reasonForFinal(status);
      this.finish(reason, status, msg.reason);
    }
  }

  /**
   * §22.2: re-sends the INVITE with credentials answering a 401/407 (same Call-ID and From tag, CSeq + 1, a new
   * branch), unless that cannot help: no credentials, another realm or algorithm, the call is being cancelled, or
   * our answer was already refused (a second challenge that is not `stale=true`, or a second stale one). Returns
   * whether it re-sent.
   */
  private answerChallenge(msg: SipMessage): boolean {
    const digest = this.ctx.digest;
    if (!digest || this.cancelRequested || !msg.challenges) return false;
    const challenge = parseChallenges(msg.challenges, msg.status);
    if (!challenge || !digest.accepts(challenge)) return false;
    if (this.challengesAnswered > 0) {
      // We answered and were challenged again: a wrong password, unless the server only says the nonce aged.
      if (!challenge.stale || this.staleRetried) {
        if (this.authNonce !== null) digest.forget(this.authNonce);
        return false;
      }
      this.staleRetried = true;
    }
    this.challengesAnswered++;
    const { ctx, id } = this;
    const answer = digest.answer(challenge, "INVITE", requestUri(ctx, id));
    this.authNonce = challenge.nonce;
    this.extras = { ...this.extras, authorization: answer };
    this.retransmit?.cancel();
    this.deadline?.cancel();
    if (this.replaced) this.replaced.push(id.branch);
    else this.replaced = [id.branch];
    id.branch = newBranch();
    id.cseq++;
    this.provisional = false;
    ctx.rebranched(id.branch, this);
    this.sendInvite();
    return true;
  }

  /** Re-ACKs a final of a replaced INVITE: its branch (from the response's Via) and CSeq, §17.1.1.3. */
  private ackReplaced(msg: SipMessage): void {
    const top = msg.via[0];
    const branch = top === undefined ? null : headerParam(top, "branch");
    if (branch === null) return;
    this.ctx.send(Buffer.from(nonSuccessAck(this.ctx, { ...this.id, branch, cseq: msg.cseq }, msg)), noop);
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
    const finished = new FinishedCall(this.ctx, this.id, this.dialogs, this.extras.authorization);
    this.ctx.ended(this.id.branch, finished, this.replaced);
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
    private readonly authorization: string | null,
  ) {}

  onResponse(msg: SipMessage): void {
    if (msg.cseqMethod !== "INVITE" || msg.status < 200) return;
    if (msg.status < 300) {
      this.dialogs = acknowledgeSuccess(this.ctx, this.id, this.dialogs, msg, this.authorization);
    } else this.ctx.send(Buffer.from(nonSuccessAck(this.ctx, this.id, msg)), noop);
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
  authorization: string | null,
): Map<string, Buffer> {
  const known = dialogs ?? new Map<string, Buffer>();
  const tag = headerParam(msg.to ?? "", "tag") ?? "";
  const previous = known.get(tag);
  if (previous) {
    ctx.send(previous, noop);
    return known;
  }
  const byeBranch = newBranch();
  const requests = dialogRequests(ctx, id, msg, { ack: newBranch(), bye: byeBranch }, authorization);
  const ack = Buffer.from(requests.ack);
  known.set(tag, ack);
  ctx.send(ack, noop);
  const transactions = ctx.transactions;
  const bye = new NonInviteClientTransaction(
    ctx,
    Buffer.from(requests.bye),
    () => transactions.delete(byeBranch),
    noop,
  );
  transactions.set(byeBranch, bye);
  bye.start();
  return known;
}

function noop(): void {}
