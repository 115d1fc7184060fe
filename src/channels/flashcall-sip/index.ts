/**
 * The flash-call channel over SIP: each attempt is one INVITE from the leased CLI, cancelled after the ring time.
 * It turns the UAC's call records into attempt progress; it knows nothing of HTTP or storage.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { AttemptOutcome, AttemptProgress, Channel, OutboundMessage } from "../../core/ports.js";
import type { RoutedCallRecord } from "../../sip/trunks/router.js";
import type { CallRecord, FlashCaller, PlacedCall } from "../../sip/types.js";

export interface FlashcallSipOptions {
  /** the SIP user agent: the trunk layer (TrunkRouter), or one UAC in this thread (SipUac) or its own (startSipUacWorker) */
  uac: FlashCaller;
  /** ring this long after 180/183, then CANCEL; default 1500 ms */
  ringTimeMs: number;
  /** give up on a call that has not rung by then */
  maxDialMs: number;
  /** reports a call whose promise rejected (a bug, not a call outcome) */
  onError?: (error: unknown) => void;
  /** told how each call ended (for the debug log); never given the numbers, whose last digits are a code */
  onCallEnded?: (summary: CallSummary) => void;
}

/** How one flash call went, as the log shows it. */
export interface CallSummary {
  attempt_id: string;
  call_id: string;
  /** the trunk that carried the call, null when none did (no route, no capacity) */
  trunk: string | null;
  sip_code: number | null;
  reason: string;
  /** the final's Reason header, e.g. `Q.850;cause=17;text="User busy"` */
  sip_reason: string | null;
  /** trunks that failed the call before the one that carried it */
  failed_over: Array<{ trunk: string; reason: string; sip_code: number | null }>;
  /** INVITE to the first 180/183, null when it never rang */
  post_dial_delay_ms: number | null;
  /** first 180/183 to the end, null when it never rang */
  ring_ms: number | null;
  /** INVITE to the end */
  duration_ms: number;
}

/** The flash-call channel, with what a graceful shutdown needs of it. */
export interface FlashcallSipChannel extends Channel {
  /**
   * Resolves once no call is in progress, or after `graceMs` with those still ringing (then `close()` hangs them
   * up); the number of calls still in progress.
   */
  settle(graceMs: number): Promise<number>;
}

/** how often settle() looks at the calls in progress */
const SETTLE_POLL_MS = 20;

export function createFlashcallSipChannel(options: FlashcallSipOptions): FlashcallSipChannel {
  const calls = new Map<string, { cancel(): void }>();
  return {
    name: "flashcall",
    send(message: OutboundMessage, progress: AttemptProgress): void {
      let call: PlacedCall;
      try {
        call = options.uac.placeCall({
          to: message.to,
          cli: message.cli,
          ringTimeMs: options.ringTimeMs,
          maxDialMs: options.maxDialMs,
          onRinging: (at) => progress.ringing(at),
        });
      } catch (error) {
        // The UAC refuses numbers that would not make a valid request; the attempt fails instead of the caller.
        options.onError?.(error);
        progress.ended({ at: Date.now(), delivered: false, reason: "network_error", sipCode: null });
        return;
      }
      const attemptId = message.attemptId;
      calls.set(attemptId, call);
      call.done.then(
        (record: CallRecord & Partial<RoutedCallRecord>) => {
          calls.delete(attemptId);
          if (options.onCallEnded) options.onCallEnded(callSummary(attemptId, record));
          progress.ended(toOutcome(record));
        },
        (error: unknown) => {
          calls.delete(attemptId);
          options.onError?.(error);
          progress.ended({ at: Date.now(), delivered: false, reason: "network_error", sipCode: null });
        },
      );
    },
    cancel(attemptId: string): void {
      calls.get(attemptId)?.cancel();
    },
    async settle(graceMs: number): Promise<number> {
      const deadline = Date.now() + graceMs;
      while (calls.size > 0 && Date.now() < deadline) await sleep(SETTLE_POLL_MS);
      return calls.size;
    },
    async close(): Promise<void> {
      await options.uac.close();
    },
  };
}

/**
 * A call delivered its CLI when the phone rang at all (even if it then ended busy or rang only after we gave up),
 * or when it was answered: either way the caller ID reached the screen.
 */
function toOutcome(record: CallRecord & Partial<RoutedCallRecord>): AttemptOutcome {
  const delivered = record.ringingAt !== null || record.reason === "answered";
  // The trunk layer says which trunk carried the call; its INVITE is where post-dial delay starts.
  const trunk = record.trunk;
  const outcome: AttemptOutcome = {
    at: record.endedAt,
    delivered,
    reason: record.reason,
    sipCode: record.finalCode,
    reasonHeader: record.reasonHeader,
    trunkId: trunk ?? null,
    invitedAt: trunk ? record.startedAt : null,
  };
  if (record.failedOver?.length) {
    outcome.failedOver = record.failedOver.map((f) => ({ trunk: f.trunk, reason: f.reason, sipCode: f.finalCode }));
  }
  return outcome;
}

export function callSummary(attemptId: string, record: CallRecord & Partial<RoutedCallRecord>): CallSummary {
  const { startedAt, ringingAt, endedAt } = record;
  return {
    attempt_id: attemptId,
    call_id: record.callId,
    trunk: record.trunk ?? null,
    sip_code: record.finalCode,
    reason: record.reason,
    sip_reason: record.reasonHeader,
    failed_over: (record.failedOver ?? []).map((f) => ({ trunk: f.trunk, reason: f.reason, sip_code: f.finalCode })),
    post_dial_delay_ms: ringingAt === null ? null : Math.max(0, ringingAt - startedAt),
    ring_ms: ringingAt === null ? null : Math.max(0, endedAt - ringingAt),
    duration_ms: Math.max(0, endedAt - startedAt),
  };
}
