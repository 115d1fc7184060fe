/**
 * The messages between MediaThreads (media-threads.ts) and each of its threads (media-thread.ts), one array per
 * event-loop turn either way. Legs are named by a number the calling side assigns.
 */
import type { MediaOutcome } from "./media-host.js";
import type { PortRange } from "./port-range.js";
import type { VoicePrompt } from "./prompt.js";
import type { RtpSessionOptions } from "./rtp-session.js";
import type { NegotiatedAudio } from "./sdp.js";

export interface MediaThreadStart {
  address: string;
  ports: PortRange;
  /** The thread's nice value, when set; unset, -10 where the host allows it. */
  priority?: number;
}

/** Calling thread → media thread. */
export type ToMedia =
  | { t: "open"; l: number; sharedPort?: number }
  | {
      t: "play";
      l: number;
      remote: NegotiatedAudio;
      prompt: Omit<VoicePrompt, "clips">;
      /** The samples of the clips this thread has not been sent before (it keeps every clip, by key). */
      clips: [key: string, samples: Int16Array][];
      options: RtpSessionOptions;
    }
  | { t: "key"; l: number; key: string }
  | { t: "stop"; l: number }
  | { t: "close"; l: number }
  /** Stop and close everything, answer `closed`, then exit. */
  | { t: "shutdown" };

/** Media thread → calling thread. */
export type FromMedia =
  | { t: "opened"; l: number; port: number }
  | { t: "unopened"; l: number; message: string; code: string | undefined }
  | { t: "played"; l: number; outcome: MediaOutcome }
  | { t: "closed" };
