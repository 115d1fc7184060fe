/**
 * Drives the durable timers: every `intervalMs` it fires the timers that are due (expiry, attempts left in flight
 * by a crash), batch after batch while there are more. The timers are rows, so a restarted server, or another
 * node, picks up whatever this one did not finish.
 */
export interface TimerWorkerOptions {
  /** fires due timers, at most `limit`; resolves with how many it claimed (VerificationService.advanceDue) */
  advanceDue(limit: number): Promise<number>;
  /** default 250 ms */
  intervalMs?: number;
  /** timers claimed per batch; default 500 */
  batchSize?: number;
  onError?: (error: unknown) => void;
}

export class TimerWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly options: TimerWorkerOptions) {}

  start(): void {
    this.timer ??= setInterval(() => {
      this.running ??= this.drain().finally(() => {
        this.running = undefined;
      });
    }, this.options.intervalMs ?? 250);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async drain(): Promise<void> {
    const limit = this.options.batchSize ?? 500;
    try {
      while ((await this.options.advanceDue(limit)) >= limit) {
        // a full batch: there may be more due right now
      }
    } catch (error) {
      this.options.onError?.(error);
    }
  }
}
