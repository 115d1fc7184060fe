/**
 * The voice channel's settings, part of the one configuration schema (src/config-shape.ts). Voice is on when
 * VOICE_CALLER_ID is set, or with SANDBOX=on (whose handsets answer voice calls).
 */
import { z } from "zod";
import { VOICE_LANGUAGES } from "./phrases.js";

const ms = z.coerce.number().int().min(0);

export const VoiceChannelConfig = {
  /** the caller ID voice calls show (E.164, a number you own); default with SANDBOX=on +442079460000 */
  VOICE_CALLER_ID: z
    .string()
    .regex(/^\+[1-9][0-9]{6,14}$/, "must be E.164, like +442079460000")
    .optional(),
  /** RTP ports (even ones are used, one per call), `min-max`; default 20000-29999 */
  VOICE_RTP_PORTS: z
    .string()
    .default("20000-29999")
    .transform((s, ctx) => {
      const m = s.match(/^(\d{1,5})-(\d{1,5})$/);
      const min = Number(m?.[1]);
      const max = Number(m?.[2]);
      if (!m || min < 1024 || max > 65535 || max - min < 1) {
        ctx.addIssue({ code: "custom", message: "must be a range like 20000-29999 within 1024-65535" });
        return z.NEVER;
      }
      return { min, max };
    }),
  /** where RTP sockets bind; default SIP_LOCAL_ADDRESS (127.0.0.1 with the sandbox) */
  VOICE_RTP_ADDRESS: z.string().min(1).optional(),
  /** the address the SDP offer names, when RTP binds 0.0.0.0 or sits behind NAT; default VOICE_RTP_ADDRESS */
  VOICE_RTP_PUBLIC_ADDRESS: z.string().min(1).optional(),
  /**
   * nice value (-20..19) of the threads that send the RTP (below 0: CAP_SYS_NICE or RLIMIT_NICE); default -10 where
   * permitted (src/media/rtp-priority.ts)
   */
  VOICE_RTP_PRIORITY: z.coerce.number().int().min(-20).max(19).optional(),
  /** threads per SIP trunk thread that send the calls' RTP, which the SIP thread reads (0: it sends too); default 1 */
  VOICE_RTP_THREADS: z.coerce.number().int().min(0).max(64).optional(),
  /** how long a voice call may ring unanswered; default 30 s */
  VOICE_ANSWER_TIMEOUT_MS: ms.min(1000).max(120_000).default(30_000),
  /** the longest voice call, from the answer; default 120 s */
  VOICE_MAX_CALL_MS: ms.min(5000).max(600_000).default(120_000),
  /** the language of verifications whose country has no prompt of its own; default en */
  VOICE_LANGUAGE: z.enum(VOICE_LANGUAGES as [string, ...string[]]).default("en"),
  /** recorded prompts, `<dir>/<language>/<clip>.wav` (intro, again, menu, 0-9); default espeak-ng only */
  VOICE_PROMPTS_DIR: z.string().min(1).optional(),
  /** how long the line stays open for "1" after the menu; default 5000 ms */
  VOICE_LISTEN_MS: ms.max(30_000).default(5000),
  /** how often "1" says the code again; default 2 */
  VOICE_MAX_REPLAYS: z.coerce.number().int().min(0).max(5).default(2),
};

/** The caller ID of sandbox voice calls (a drama-reserved London number is not valid, so an Ofcom test range). */
export const SANDBOX_VOICE_CALLER_ID = "+442079460000";

type VoiceSettings = z.infer<z.ZodObject<typeof VoiceChannelConfig>>;

/**
 * The voice channel (VOICE_*), on when VOICE_CALLER_ID is set or with SANDBOX=on (whose handsets answer); null: off,
 * and the trunks' threads open no RTP ports.
 */
export interface VoiceConfig {
  callerId: string;
  answerTimeoutMs: number;
  /** give up on a call that has not rung by then (SIP_MAX_DIAL_MS) */
  maxDialMs: number;
  maxCallMs: number;
  language: string;
  promptsDir: string | null;
  timing: { listenMs: number; maxReplays: number };
  /** the RTP side of every trunk's SIP thread */
  media: {
    ports: { min: number; max: number };
    address: string | undefined;
    advertisedAddress: string | undefined;
    priority: number | undefined;
    threads: number | undefined;
  };
}

export function voiceConfig(c: VoiceSettings & { SANDBOX: "on" | "off"; SIP_MAX_DIAL_MS: number }): VoiceConfig | null {
  const callerId = c.VOICE_CALLER_ID ?? (c.SANDBOX === "on" ? SANDBOX_VOICE_CALLER_ID : undefined);
  if (callerId === undefined) return null;
  return {
    callerId,
    answerTimeoutMs: c.VOICE_ANSWER_TIMEOUT_MS,
    maxDialMs: c.SIP_MAX_DIAL_MS,
    maxCallMs: c.VOICE_MAX_CALL_MS,
    language: c.VOICE_LANGUAGE,
    promptsDir: c.VOICE_PROMPTS_DIR ?? null,
    timing: { listenMs: c.VOICE_LISTEN_MS, maxReplays: c.VOICE_MAX_REPLAYS },
    media: {
      ports: c.VOICE_RTP_PORTS,
      address: c.VOICE_RTP_ADDRESS,
      advertisedAddress: c.VOICE_RTP_PUBLIC_ADDRESS,
      priority: c.VOICE_RTP_PRIORITY,
      threads: c.VOICE_RTP_THREADS,
    },
  };
}
