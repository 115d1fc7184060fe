/**
 * The voice channel: a real call over the SIP trunks that the phone answers; the code is said twice, digit by
 * digit, in the verification's language, and "press one" (RFC 4733 DTMF) says it again. Landlines and phones that
 * get neither a call log nor SMS can be verified this way.
 *
 * The prompt is put together here from per-language clips cached in memory (speech.ts), and crosses to the SIP
 * thread as samples, where the RTP sender plays it on its own 20 ms clock. The call's record comes back with what
 * the media did; the attempt is delivered when the code was said in full at least once.
 *
 * @example
 * const voice = createVoiceChannel({ caller: router, speech: new SpeechClips({ promptsDir: null }),
 *   callerId: "+442079460000", answerTimeoutMs: 30000, maxDialMs: 15000, maxCallMs: 120000, defaultLanguage: "en" });
 */
import type { MessageChannel, MessageOutcome, MessageProgress, MessageReason, OtpMessage } from "../../core/ports.js";
import type { RoutedCallRecord } from "../../sip/trunks/router.js";
import type { CallRecord, FlashCaller, PlacedCall } from "../../sip/types.js";
import { ESPEAK_VOICES, VOICE_PHRASES } from "./phrases.js";

export { SANDBOX_VOICE_CALLER_ID } from "./config.js";
export { SpeechClips } from "./speech.js";

import { buildPrompt, type PromptTiming } from "./prompt.js";
import type { SpeechClips } from "./speech.js";

export interface VoiceChannelOptions {
  /** the SIP layer: the trunk router (whose UACs have an RTP port range) */
  caller: FlashCaller;
  speech: SpeechClips;
  /** the caller ID voice calls show: E.164 */
  callerId: string;
  /** how long the phone may ring unanswered (then CANCEL: `no_answer`) */
  answerTimeoutMs: number;
  /** give up on a call that has not rung by then */
  maxDialMs: number;
  /** the longest call, from the answer to our BYE */
  maxCallMs: number;
  /** the language of a verification whose own has no prompt */
  defaultLanguage: string;
  timing?: PromptTiming;
  /** a call whose promise rejected or a prompt that could not be rendered (not a call outcome) */
  onError?: (error: unknown) => void;
}

export interface VoiceChannel extends MessageChannel {
  /** Resolves once no call is in progress, or after `graceMs`; the number still in progress. */
  settle(graceMs: number): Promise<number>;
}

export function createVoiceChannel(options: VoiceChannelOptions): VoiceChannel {
  const calls = new Set<PlacedCall>();
  /** calls in progress by attempt, and attempts whose verification ended: `cancel` hangs them up */
  const byAttempt = new Map<string, PlacedCall | null>();
  const hungUp = new Set<string>();
  let closed = false;
  const forget = (attemptId: string) => {
    byAttempt.delete(attemptId);
    hungUp.delete(attemptId);
  };
  return {
    send(message: OtpMessage, progress: MessageProgress): void {
      // An application's voice template is spoken in its own language; the defaults where that language has them.
      const templated =
        message.voice && message.language && ESPEAK_VOICES[message.language] ? message.voice : undefined;
      const language =
        templated || (message.language && VOICE_PHRASES[message.language])
          ? (message.language as string)
          : options.defaultLanguage;
      const { attemptId } = message;
      byAttempt.set(attemptId, null);
      buildPrompt(options.speech, language, message.code, options.timing, templated).then(
        (prompt) => {
          if (closed) {
            forget(attemptId);
            progress.ended(failed("network_error", "voice channel closed"));
            return;
          }
          // The verification ended while the prompt was being put together: no call is placed.
          if (hungUp.has(attemptId)) {
            forget(attemptId);
            progress.ended(failed("verification_ended", "not placed: the verification had ended"));
            return;
          }
          let call: PlacedCall;
          try {
            call = options.caller.placeCall({
              to: message.to,
              cli: options.callerId,
              ringTimeMs: options.answerTimeoutMs,
              maxDialMs: options.maxDialMs,
              media: { prompt, maxCallMs: options.maxCallMs },
              onRinging: (at) => progress.ringing?.(at),
            });
          } catch (error) {
            forget(attemptId);
            options.onError?.(error);
            progress.ended(failed("network_error", "call could not be placed"));
            return;
          }
          calls.add(call);
          byAttempt.set(attemptId, call);
          call.done.then(
            (record) => {
              calls.delete(call);
              const ours = hungUp.has(attemptId);
              forget(attemptId);
              if (record.answeredAt) progress.accepted(record.answeredAt, [record.callId]);
              progress.ended(toOutcome(record, ours));
            },
            (error: unknown) => {
              calls.delete(call);
              forget(attemptId);
              options.onError?.(error);
              progress.ended(failed("network_error", null));
            },
          );
        },
        (error: unknown) => {
          forget(attemptId);
          options.onError?.(error);
          progress.ended(failed("network_error", "voice prompt could not be rendered"));
        },
      );
    },
    cancel(attemptId: string): void {
      if (!byAttempt.has(attemptId) || hungUp.has(attemptId)) return;
      hungUp.add(attemptId);
      byAttempt.get(attemptId)?.cancel();
    },
    async settle(graceMs: number): Promise<number> {
      const deadline = Date.now() + graceMs;
      while (calls.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      return calls.size;
    },
    async close(): Promise<void> {
      closed = true;
      for (const call of calls) call.cancel();
    },
  };
}

function failed(reason: MessageReason, detail: string | null): MessageOutcome {
  return { at: Date.now(), delivered: false, reason, detail };
}

/**
 * Delivered when the code was said in full at least once. An answered call that ended before that says why; one
 * that was never answered keeps the SIP layer's reason (ringing until the answer timeout is `no_answer`). A call we
 * hung up because its verification ended (`hungUp`) says so, whether it was ringing (CANCEL) or playing (BYE).
 */
export function toOutcome(record: CallRecord & Partial<RoutedCallRecord>, hungUp = false): MessageOutcome {
  const answeredMs = record.answeredAt ? Math.max(0, record.endedAt - record.answeredAt) : 0;
  const base = { at: record.endedAt, sipCode: record.finalCode, trunkId: record.trunk ?? null, answeredMs };
  const media = record.media;
  if (record.reason === "answered" && media) {
    const detail = `codec=${media.codec ?? "none"} played_ms=${media.playedMs} dtmf=${media.dtmf || "-"} replays=${media.replays}`;
    if (media.codeHeard) return { ...base, delivered: true, reason: "delivered", detail };
    if (hungUp) return { ...base, delivered: false, reason: "verification_ended", detail: `hung up (BYE): ${detail}` };
    const reason: MessageReason =
      media.end === "no_media"
        ? "rejected"
        : media.end === "remote_hangup"
          ? "hung_up_early"
          : media.end === "closed"
            ? "interrupted"
            : "timeout";
    return { ...base, delivered: false, reason, detail };
  }
  // What our CANCEL ends a call with; a busy or a rejection that came first is the phone's own answer.
  const cancelled =
    record.reason === "ringing_canceled" || record.reason === "no_answer" || record.reason === "timeout";
  if (hungUp && cancelled) {
    const how = record.ringingAt === null ? "before it rang" : "while it rang (CANCEL)";
    return { ...base, delivered: false, reason: "verification_ended", detail: `hung up ${how}` };
  }
  return { ...base, delivered: false, reason: unansweredReason(record.reason), detail: record.reasonHeader };
}

function unansweredReason(reason: CallRecord["reason"]): MessageReason {
  switch (reason) {
    case "ringing_canceled":
    case "no_answer":
      return "no_answer";
    // A 2xx without media can only come from a UAC without media configured.
    case "answered":
      return "rejected";
    default:
      return reason;
  }
}
