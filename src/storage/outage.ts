/**
 * Watches one dependency (the database, Redis) for being unreachable, so that an outage is reported as one event and
 * not as one error per request: the first failure that means "cannot reach it" logs that it went away and starts
 * probing it every `probeMs`; the first probe that succeeds logs that it came back, how long it was away and how
 * many requests and background runs it refused meanwhile. Callers that see such a failure answer 503 (requests) or
 * back off (workers) instead of logging it.
 */

export interface OutageReport {
  dependency: string;
  /** milliseconds it was away, on recovery */
  downMs?: number;
  /** requests refused because of it, on recovery */
  refusedRequests?: number;
  /** background runs (timers, outbox, fraud counters) that failed because of it, on recovery */
  failedBackground?: number;
  /** the first failure, when it went away */
  error?: string;
}

export interface OutageOptions {
  dependency: string;
  /** whether an error means the dependency cannot be reached (rather than a fault of the request) */
  isUnreachable(error: unknown): boolean;
  /** resolves when the dependency answers again */
  probe(): Promise<unknown>;
  onDown(report: OutageReport): void;
  onUp(report: OutageReport): void;
  onChange?(up: boolean): void;
  /** default 500 ms */
  probeMs?: number;
}

export class Outage {
  private downSince: number | null = null;
  private refused = 0;
  private failed = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: OutageOptions) {}

  get down(): boolean {
    return this.downSince !== null;
  }

  /**
   * Counts `error` against the outage when it means the dependency is unreachable, and says so; any other error is
   * the caller's to report.
   */
  note(error: unknown, kind: "request" | "background"): boolean {
    if (!this.options.isUnreachable(error)) return false;
    if (kind === "request") this.refused += 1;
    else this.failed += 1;
    if (this.downSince === null && !this.closed) {
      this.downSince = Date.now();
      this.options.onDown({ dependency: this.options.dependency, error: describe(error) });
      this.options.onChange?.(false);
      this.schedule();
    }
    return true;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    this.timer = setTimeout(() => void this.probe(), this.options.probeMs ?? 500);
    this.timer.unref();
  }

  private async probe(): Promise<void> {
    if (this.closed || this.downSince === null) return;
    try {
      await this.options.probe();
    } catch {
      if (!this.closed) this.schedule();
      return;
    }
    const report = {
      dependency: this.options.dependency,
      downMs: Date.now() - this.downSince,
      refusedRequests: this.refused,
      failedBackground: this.failed,
    };
    this.downSince = null;
    this.refused = 0;
    this.failed = 0;
    this.options.onUp(report);
    this.options.onChange?.(true);
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === "string" ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}
