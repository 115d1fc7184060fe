/**
 * Drives the durable timers: every `intervalMs` it fires the timers that are due (expiry, attempts left in flight
 * by a crash), batch after batch while there are more. The timers are rows, so a restarted server, or another
 * node, picks up whatever this one did not finish. While the store fails it backs off (twice the wait after each
 * failure, up to 5 s) and resumes by itself.
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

/** The longest a worker waits between tries while its store fails. */
export const MAX_BACKOFF_MS = 5000;

export class TimerWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** consecutive failed runs, and when the next may start: a store that is away is tried less and less often */
  private failures = 0;
  private resumeAt = 0;

  constructor(private readonly options: TimerWorkerOptions) {}

  start(): void {
    this.timer ??= setInterval(() => {
      if (performance.now() < this.resumeAt) return;
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
      this.failures = 0;
    } catch (error) {
      this.failures += 1;
      this.resumeAt = performance.now() + backoffMs(this.options.intervalMs ?? 250, this.failures);
      this.options.onError?.(error);
    }
  }
}

/** Twice as long after each consecutive failure, from the usual interval up to MAX_BACKOFF_MS. */
export function backoffMs(baseMs: number, failures: number): number {
  return Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.min(failures - 1, 16));
}
