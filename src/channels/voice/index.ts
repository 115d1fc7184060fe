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
import { VOICE_PHRASES } from "./phrases.js";

export { SANDBOX_VOICE_CALLER_ID } from "./config.js";
export { SpeechClips } from "./speech.js";

/** Voice is on when a caller ID is configured, or with the sandbox (whose handsets answer). */
export function voiceEnabled(config: { VOICE_CALLER_ID?: string | undefined }, sandbox: boolean): boolean {
  return config.VOICE_CALLER_ID !== undefined || sandbox;
}

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
  let closed = false;
  return {
    send(message: OtpMessage, progress: MessageProgress): void {
      const language = message.language && VOICE_PHRASES[message.language] ? message.language : options.defaultLanguage;
      buildPrompt(options.speech, language, message.code, options.timing).then(
        (prompt) => {
          if (closed) {
            progress.ended(failed("network_error", "voice channel closed"));
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
            });
          } catch (error) {
            options.onError?.(error);
            progress.ended(failed("network_error", "call could not be placed"));
            return;
          }
          calls.add(call);
          call.done.then(
            (record) => {
              calls.delete(call);
              if (record.answeredAt) progress.accepted(record.answeredAt, [record.callId]);
              progress.ended(toOutcome(record));
            },
            (error: unknown) => {
              calls.delete(call);
              options.onError?.(error);
              progress.ended(failed("network_error", null));
            },
          );
        },
        (error: unknown) => {
          options.onError?.(error);
          progress.ended(failed("network_error", "voice prompt could not be rendered"));
        },
      );
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
 * that was never answered keeps the SIP layer's reason (ringing until the answer timeout is `no_answer`).
 */
export function toOutcome(record: CallRecord & Partial<RoutedCallRecord>): MessageOutcome {
  const answeredMs = record.answeredAt ? Math.max(0, record.endedAt - record.answeredAt) : 0;
  const base = { at: record.endedAt, sipCode: record.finalCode, trunkId: record.trunk ?? null, answeredMs };
  const media = record.media;
  if (record.reason === "answered" && media) {
    const detail = `codec=${media.codec ?? "none"} played_ms=${media.playedMs} dtmf=${media.dtmf || "-"} replays=${media.replays}`;
    if (media.codeHeard) return { ...base, delivered: true, reason: "delivered", detail };
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
