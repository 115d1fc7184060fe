/**
 * A flash-call channel the test drives by hand: it records what it was asked to send and lets the test decide
 * when the phone rings and how the call ends. Used only by core unit tests; end-to-end tests use real SIP.
 */
import type { AttemptOutcome, AttemptProgress, Channel, OutboundMessage } from "../../src/core/ports.js";

export interface SentCall {
  message: OutboundMessage;
  progress: AttemptProgress;
  canceled: boolean;
}

export class ScriptedChannel implements Channel {
  readonly name = "flashcall" as const;
  readonly sent: SentCall[] = [];

  send(message: OutboundMessage, progress: AttemptProgress): void {
    this.sent.push({ message, progress, canceled: false });
  }

  cancel(attemptId: string): void {
    const call = this.sent.find((c) => c.message.attemptId === attemptId);
    if (call) call.canceled = true;
  }

  async close(): Promise<void> {}

  last(): SentCall {
    const call = this.sent.at(-1);
    if (!call) throw new Error("nothing was sent");
    return call;
  }

  ring(at: number): void {
    this.last().progress.ringing(at);
  }

  end(outcome: AttemptOutcome): void {
    this.last().progress.ended(outcome);
  }
}

export class FakeClock {
  constructor(public current = Date.UTC(2026, 10, 22, 12, 0, 0)) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}
