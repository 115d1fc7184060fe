/**
 * One flash call: the RFC 3261 INVITE client transaction (§17.1.1) plus the bits of UAC core a flash call needs —
 * CANCEL after the ring time (§9.1), ACK for non-2xx finals, ACK + BYE when the phone answers anyway — ending in
 * exactly one CallRecord. Its state is one CallState (call-state.ts) whose every move is checked. Once the record
 * is settled a small FinishedCall takes over for Timer D, re-ACKing retransmitted finals and hanging up late 2xx.
 *
 * Timers, all on the shared wheel: Timer A and Timer B (§17.1.1.2), the §9.1 wait for the INVITE's final after our
 * CANCEL, and our own dial timer (maxDialMs until the first 18x, then ringTimeMs).
 *
 * The record's reason is decided when it settles, from what the network showed by then, never when a CANCEL is
 * requested: under load `cancel()` often runs while the 100 and 180 are still unread in the socket buffer, and such
 * a call did ring. Only the dial deadline fixes a reason early, because `no_answer` and `timeout` mean "nothing
 * rang within maxDialMs"; a ring after that still sets `ringingAt`.
 */
import type { MediaLeg } from "../media/media-host.js";
import { reasonForFinal } from "./call-reason.js";
import { CallState, transition } from "./call-state.js";
import { invokeCallback } from "./callbacks.js";
import { type DigestClient, parseChallenges } from "./digest.js";
import { acknowledgeSuccess, type DialogContext, FinishedCall } from "./finished-call.js";
import { newBranch, newCallId, newTag } from "./ids.js";
import { headerParam, type SipMessage } from "./message.js";
import { NonInviteClientTransaction } from "./non-invite-transaction.js";
import {
  type CallIdentity,
  cancelRequest,
  type InviteExtras,
  inviteRequest,
  nonSuccessAck,
  requestUri,
} from "./requests.js";
import type { TimerHandle } from "./timer-wheel.js";
import type { CallReason, CallRecord, PlaceCallOptions, VoiceCallMedia } from "./types.js";
import { type VoiceContext, VoiceDialog } from "./voice-dialog.js";

/** A voice call's media before the answer: its bound RTP socket and what it will play. */
export interface PendingMedia {
  leg: MediaLeg;
  /** The SDP offer the INVITE carries. */
  offer: string;
  options: VoiceCallMedia;
}

/** What a call needs from its UAC. */
export interface CallContext extends DialogContext {
  readonly now: () => number;
  /** The media host and live dialogs of voice calls; null when the UAC has no media configured. */
  readonly voice?: VoiceContext | null;
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

const { Calling, Proceeding, CancelPending, Cancelling, Accepted, Completed, Terminated } = CallState;

export class OutgoingCall {
  readonly id: CallIdentity;
  readonly startedAt: number;
  private state: CallState = Calling;
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
  /** The current INVITE, kept for Timer A while it may be retransmitted. */
  private invite: Buffer | null = null;
  private timerAInterval: number;
  private timerA: TimerHandle | null = null;
  private timerB: TimerHandle | null = null;
  /** §9.1's 64*T1 wait for the INVITE's final once our CANCEL is sent. */
  private cancelTimer: TimerHandle | null = null;
  /** maxDialMs until the first 18x, then ringTimeMs. */
  private dialTimer: TimerHandle | null = null;
  /** Any response arrived: the next hop is reachable, so a socket error then cannot be ours. */
  responded = false;
  private ringingAt: number | null = null;
  /** Set when maxDialMs passed without a 18x: what the record says if that CANCEL ends the call. */
  private dialExpired: CallReason | null = null;
  private cancelTx: NonInviteClientTransaction | null = null;
  /** To tags of the dialogs a 2xx created, with the ACK each got. */
  private dialogs: Map<string, Buffer> | null = null;
  /** A voice call's RTP socket and prompt until it is answered (then its dialog owns the socket). */
  private media: PendingMedia | null;
  private voiceDialog: VoiceDialog | null = null;
  private answeredAt: number | null = null;
  private resolve!: (record: CallRecord) => void;
  readonly done: Promise<CallRecord>;

  constructor(
    private readonly ctx: CallContext,
    options: PlaceCallOptions,
    callId: string = newCallId(),
    media: PendingMedia | null = null,
  ) {
    this.media = media;
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
      sdp: media?.offer ?? null,
    };
    this.startedAt = ctx.now();
    this.ringTimeMs = options.ringTimeMs;
    this.maxDialMs = options.maxDialMs;
    this.onRinging = options.onRinging;
    this.timerAInterval = ctx.t1;
    this.done = new Promise((resolve) => {
      this.resolve = resolve;
    });
  }

  /** The call's state, for tests and diagnostics. */
  get currentState(): CallState {
    return this.state;
  }

  /** Sends the INVITE and arms Timers A and B and the dial deadline. */
  start(): void {
    this.sendInvite();
    this.dialTimer = this.ctx.wheel.schedule(this.maxDialMs, this.onMaxDial);
  }

  private moveTo(next: CallState): void {
    this.state = transition(this.state, next);
  }

  /**
   * §17.1.1.2: "The initial state, "calling", MUST be entered when the TU initiates a new client transaction with an
   * INVITE request. [...] If an unreliable transport is being used, the client transaction MUST start timer A with a
   * value of T1. [...] For any transport, the client transaction MUST start timer B with a value of 64*T1 seconds".
   */
  private sendInvite(): void {
    const { ctx } = this;
    this.invite = Buffer.from(inviteRequest(ctx, this.id, this.extras));
    ctx.send(this.invite, this.onSendError);
    this.timerAInterval = ctx.t1;
    if (!ctx.reliable) this.timerA = ctx.wheel.schedule(this.timerAInterval, this.onTimerA);
    this.timerB = ctx.wheel.schedule(ctx.timerB, this.onTimerB);
  }

  /**
   * Ends the call early: CANCEL now if a provisional arrived, else as soon as one does (or Timer B). An answered
   * voice call is past its INVITE transaction: its dialog hangs up with BYE.
   */
  cancel(): void {
    if (this.voiceDialog) this.voiceDialog.stop("hung_up");
    else this.requestCancel();
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
    else if (msg.cseqMethod === "INVITE" && this.state !== Terminated) this.onInviteResponse(msg);
  }

  /** Ends the call at once with `reason` (socket errors). */
  fail(reason: CallReason): void {
    this.finish(reason);
  }

  /**
   * The TCP/TLS connection closed: no response can reach this call any more. One CANCEL for the INVITE on the
   * next connection (even before a provisional, which may have been lost with the connection), then the record.
   */
  connectionLost(): void {
    if (this.state === Terminated) return;
    if (!this.cancelTx) this.ctx.send(Buffer.from(cancelRequest(this.ctx, this.id)), noop);
    this.finish("network_error");
  }

  /** Shutdown: one CANCEL without retransmissions if one is due, then the record. */
  abandon(): void {
    if (this.state === Terminated) return;
    if (this.state === Proceeding) this.ctx.send(Buffer.from(cancelRequest(this.ctx, this.id)), noop);
    this.finish(this.cancelledReason());
  }

  private onInviteResponse(msg: SipMessage): void {
    const status = msg.status;
    if (status < 200) {
      this.onProvisional(status);
    } else if (status < 300) {
      // A voice call answered while we were not ending it keeps its dialog for the prompt; any other 2xx
      // (a flash call, or an answer racing our CANCEL) is hung up at once.
      const voice =
        this.media !== null && this.ctx.voice !== null && (this.state === Calling || this.state === Proceeding);
      this.moveTo(Accepted);
      this.stopTransactionTimers();
      this.dialogs = acknowledgeSuccess(this.ctx, this.id, this.dialogs, msg, this.extras.authorization, {
        hangUp: !voice,
        offered: this.extras.sdp != null,
      });
      if (voice) this.answer(msg);
      this.finish("answered", msg);
    } else {
      const before = this.state;
      // What a call we were ending shows, decided before Completed forgets whether a provisional came.
      const cancelled = this.cancelledReason();
      this.moveTo(Completed);
      this.stopTransactionTimers();
      this.ctx.send(Buffer.from(nonSuccessAck(this.ctx, this.id, msg)), noop);
      const ending = before === CancelPending || before === Cancelling;
      const challenged = status === 401 || status === 407;
      if (challenged && !ending && this.answerChallenge(msg)) return;
      // A 487 answers our CANCEL only if we sent one; otherwise the far end terminated the call on its own. A
      // challenge we left unanswered because we were ending the call is no authentication failure either.
      const ours = (status === 487 && before === Cancelling) || (challenged && ending && this.ctx.digest);
      this.finish(ours ? cancelled : this.reasonForFinal(status), msg);
    }
  }

  /**
   * A 403 to an INVITE that carried our credentials refuses them (the trunk's account, like a second challenge),
   * not the destination; the nonce it answered is forgotten so the next call does not offer it again.
   */
  private reasonForFinal(status: number): CallReason {
    if (status !== 403 || this.extras.authorization === null) return reasonForFinal(status);
    if (this.authNonce !== null) this.ctx.digest?.forget(this.authNonce);
    return "auth_failed";
  }

  /**
   * §22.2: re-sends the INVITE with credentials answering a 401/407 (same Call-ID and From tag, CSeq + 1, a new
   * branch: a new transaction, back in Calling), unless that cannot help: no credentials, another realm or
   * algorithm, or our answer was already refused (a second challenge that is not `stale=true`, or a second stale
   * one). Returns whether it re-sent.
   */
  private answerChallenge(msg: SipMessage): boolean {
    const digest = this.ctx.digest;
    if (!digest || !msg.challenges) return false;
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
    if (this.replaced) this.replaced.push(id.branch);
    else this.replaced = [id.branch];
    id.branch = newBranch();
    id.cseq++;
    this.moveTo(Calling);
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

  /** A voice call was answered: its dialog takes the RTP socket and plays the prompt. */
  private answer(msg: SipMessage): void {
    const media = this.media as PendingMedia;
    this.media = null;
    this.answeredAt = this.ctx.now();
    const ctx = this.ctx as CallContext & { voice: VoiceContext };
    this.voiceDialog = new VoiceDialog(ctx, this.id, msg, media.leg, media.options, this.extras.authorization);
  }

  /**
   * §17.1.1.2: "If the client transaction receives a provisional response while in the "Calling" state, it
   * transitions to the "Proceeding" state. In the "Proceeding" state, the client transaction SHOULD NOT retransmit
   * the request any longer." Timer B no longer applies either; our own timers bound the call from here.
   */
  private onProvisional(status: number): void {
    if (this.state === Calling) {
      this.moveTo(Proceeding);
      this.stopTransactionTimers();
    } else if (this.state === CancelPending) {
      this.stopTransactionTimers();
      this.sendCancel();
    }
    if ((status !== 180 && status !== 183) || this.ringingAt !== null) return;
    this.ringingAt = this.ctx.now();
    // A ring after we decided to cancel (the CANCEL crossed it, or it was still unread) is still a ring: the
    // caller ID reached the phone. Only the ring timer is moot then.
    if (this.state === Proceeding) {
      this.dialTimer?.cancel();
      if (this.ringTimeMs <= 0) this.requestCancel();
      else this.dialTimer = this.ctx.wheel.schedule(this.ringTimeMs, this.onRingTimeElapsed);
    }
    invokeCallback(this.onRinging, this.ringingAt, "onRinging");
  }

  private requestCancel(): void {
    this.dialTimer?.cancel();
    if (this.state === Calling) this.moveTo(CancelPending);
    else if (this.state === Proceeding) this.sendCancel();
  }

  /**
   * §9.1: "If there is no final response for the original request in 64*T1 seconds [...], the client SHOULD then
   * consider the original transaction cancelled and SHOULD destroy the client transaction handling the original
   * request."
   */
  private sendCancel(): void {
    this.moveTo(Cancelling);
    this.cancelTimer = this.ctx.wheel.schedule(this.ctx.timerB, this.onCancelTimeout);
    const request = Buffer.from(cancelRequest(this.ctx, this.id));
    this.cancelTx = new NonInviteClientTransaction(this.ctx, request, noop, this.onSendError);
    this.cancelTx.start();
  }

  /**
   * The reason of a call we ended ourselves (487 to our CANCEL, no final after it, shutdown), decided as it
   * settles: what the dial deadline concluded, else what the network has shown by now.
   */
  private cancelledReason(): CallReason {
    if (this.dialExpired) return this.dialExpired;
    if (this.ringingAt !== null) return "ringing_canceled";
    return this.state === Proceeding || this.state === Cancelling ? "no_answer" : "timeout";
  }

  /** Timers A and B end with the transaction's Calling state (a provisional, a final, or a new transaction). */
  private stopTransactionTimers(): void {
    this.timerA?.cancel();
    this.timerB?.cancel();
    this.timerA = null;
    this.timerB = null;
    this.invite = null;
  }

  /** Settles the record with `reason` and the final response that ended the call, if one did. */
  private finish(reason: CallReason, final: SipMessage | null = null): void {
    if (this.state === Terminated) return;
    this.moveTo(Terminated);
    this.stopTransactionTimers();
    this.cancelTimer?.cancel();
    this.dialTimer?.cancel();
    this.cancelTx?.stop();
    this.onRinging = undefined;
    const offered = this.extras.sdp != null;
    const finished = new FinishedCall(this.ctx, this.id, this.dialogs, this.extras.authorization, offered);
    this.ctx.ended(this.id.branch, finished, this.replaced);
    this.media?.leg.close();
    this.media = null;
    const record: CallRecord = {
      callId: this.id.callId,
      startedAt: this.startedAt,
      ringingAt: this.ringingAt,
      endedAt: this.ctx.now(),
      finalCode: final?.status ?? null,
      reason,
      reasonHeader: final?.reason ?? null,
    };
    // RFC 3261 §21.5.4: a 503's Retry-After asks us to send nothing to that server for so long.
    if (final?.status === 503 && final.retryAfter) record.retryAfterMs = final.retryAfter * 1000;
    const dialog = this.voiceDialog;
    if (!dialog) {
      this.resolve(record);
      return;
    }
    // An answered voice call's record waits for its media: the call ends when the prompt does.
    record.answeredAt = this.answeredAt;
    dialog.done.then((media) => this.resolve({ ...record, endedAt: this.ctx.now(), media }));
  }

  /**
   * §17.1.1.2: "When timer A fires, the client transaction MUST retransmit the request by passing it to the
   * transport layer, and MUST reset the timer with a value of 2*T1."
   */
  private readonly onTimerA = (): void => {
    if (!this.invite) return;
    this.ctx.send(this.invite, this.onSendError);
    this.timerAInterval *= 2;
    this.timerA = this.ctx.wheel.schedule(this.timerAInterval, this.onTimerA);
  };

  /**
   * §17.1.1.2: "If the client transaction is still in the "Calling" state when timer B fires, the client
   * transaction SHOULD inform the TU that a timeout has occurred. The client transaction MUST NOT generate an ACK."
   * A CANCEL waiting for a provisional (CancelPending) is still Calling to the transaction.
   */
  private readonly onTimerB = (): void => {
    if (this.state === Calling || this.state === CancelPending) this.finish("timeout");
  };

  private readonly onCancelTimeout = (): void => {
    this.finish(this.cancelledReason());
  };

  /** Armed until the first 18x, so nothing has rung yet. */
  private readonly onMaxDial = (): void => {
    this.dialExpired = this.state === Proceeding ? "no_answer" : "timeout";
    this.requestCancel();
  };

  private readonly onRingTimeElapsed = (): void => {
    this.requestCancel();
  };

  /** §17.1.1.2: a transport error ends the transaction and the TU is told at once. */
  private readonly onSendError = (): void => {
    this.finish("network_error");
  };
}

function noop(): void {}
