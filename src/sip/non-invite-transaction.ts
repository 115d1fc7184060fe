/**
 * RFC 3261 §17.1.2 non-INVITE client transaction over UDP, used for our CANCEL and BYE: retransmit on Timer E
 * (T1 doubling, capped at T2; every T2 once a provisional arrived) until a final response or Timer F.
 */
import type { TimerHandle } from "./timer-wheel.js";
import type { TransactionContext } from "./transaction-context.js";

export class NonInviteClientTransaction {
  private interval: number;
  private proceeding = false;
  private retransmit: TimerHandle | null = null;
  private timerF: TimerHandle | null = null;
  private ended = false;

  /**
   * @param onEnd called once with the final status, or null after Timer F; not called after `stop()`.
   */
  constructor(
    private readonly ctx: TransactionContext,
    private readonly request: Buffer,
    private readonly onEnd: (status: number | null) => void,
    private readonly onSendError: (err: Error) => void,
  ) {
    this.interval = ctx.t1;
  }

  /** Sends the request and arms Timers E and F (`timeoutMs`, default the context's 64*T1). */
  start(timeoutMs: number = this.ctx.timerB): void {
    this.ctx.send(this.request, this.onSendError);
    if (!this.ctx.reliable) this.retransmit = this.ctx.wheel.schedule(this.interval, this.onTimerE);
    this.timerF = this.ctx.wheel.schedule(timeoutMs, () => this.end(null));
  }

  /** Feeds a response whose branch and CSeq method match this transaction. */
  onResponse(status: number): void {
    if (this.ended) return;
    if (status >= 200) this.end(status);
    else this.proceeding = true;
  }

  /** Ends silently (the request no longer matters). */
  stop(): void {
    this.ended = true;
    this.retransmit?.cancel();
    this.timerF?.cancel();
  }

  private readonly onTimerE = (): void => {
    if (this.ended) return;
    this.ctx.send(this.request, this.onSendError);
    this.interval = this.proceeding ? this.ctx.t2 : Math.min(this.interval * 2, this.ctx.t2);
    this.retransmit = this.ctx.wheel.schedule(this.interval, this.onTimerE);
  };

  private end(status: number | null): void {
    if (this.ended) return;
    this.stop();
    this.onEnd(status);
  }
}
