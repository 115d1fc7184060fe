/**
 * The messages between the worker-backed caller (uac-worker.ts) and the SipUac in its thread
 * (uac-worker-thread.ts). Each side posts one array per event-loop turn, so thousands of calls per second cost a
 * few hundred messages. Calls are named by a small handle the calling thread assigns.
 */
import type { SipTraceEntry, SipTraceMode } from "./trace.js";
import type { CallRecord, SipUacOptions, VoiceCallMedia } from "./types.js";

/** The SipUac options that can cross a thread (functions cannot; records use the worker's Date.now). */
export type SipUacThreadOptions = Omit<SipUacOptions, "now" | "tap">;

export interface WorkerStartData {
  options: SipUacThreadOptions;
  /** trace every SIP message, redacted in the worker so that secrets never leave it unless `full` */
  trace?: SipTraceMode;
}

/** Calling thread → worker. */
export type ToWorker =
  | {
      t: "place";
      h: number;
      callId: string;
      to: string;
      cli: string;
      ringTimeMs: number;
      maxDialMs: number;
      /** Whether to report the first 18x (only calls with an onRinging need the message). */
      ring: boolean;
      /** The trunk options of PlaceCallOptions, present only when set (most calls cross without them). */
      cliUser?: string;
      toUser?: string;
      pai?: boolean;
      headers?: ReadonlyArray<readonly [string, string]>;
      /** A voice call's prompt. */
      media?: WireVoiceMedia;
    }
  | { t: "cancel"; h: number }
  /** An OPTIONS probe, named by its own handle sequence. */
  | { t: "probe"; p: number; timeoutMs: number | undefined }
  | { t: "close" };

/**
 * A voice call's media as it crosses: the prompt without its clips' samples, plus the samples of the clips this
 * thread has not been sent before (the worker keeps every clip it was sent, by key, for later calls).
 */
export interface WireVoiceMedia {
  prompt: Omit<VoiceCallMedia["prompt"], "clips">;
  clips: [key: string, samples: Int16Array][];
  maxCallMs: number;
}

/** An Error flattened for postMessage, keeping what callers branch on (class name and errno code). */
export interface ErrorData {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

/** Worker → calling thread. */
export type FromWorker =
  | { t: "ready"; local: { address: string; port: number } }
  | { t: "ringing"; h: number; at: number }
  | { t: "ended"; h: number; record: CallRecord }
  | { t: "probed"; p: number; status: number | null }
  /** One SIP message of the trace (SIP_TRACE), in the same batch as the records of its turn. */
  | { t: "trace"; entry: SipTraceEntry }
  /** Start-up failed (h null, before ready), or placing call h failed in the worker (a bug: it settles network_error). */
  | { t: "error"; h: number | null; error: ErrorData }
  /** Every call has ended and the socket is closed; the thread exits next. */
  | { t: "closed" };

export function toErrorData(error: unknown): ErrorData {
  if (!(error instanceof Error)) return { name: "Error", message: String(error) };
  const code = (error as NodeJS.ErrnoException).code;
  return { name: error.name, message: error.message, ...(code ? { code } : {}), stack: error.stack };
}

/** Rebuilds an error on the receiving side, as a RangeError or TypeError when it was one. */
export function fromErrorData(data: ErrorData): Error {
  const Class = data.name === "RangeError" ? RangeError : data.name === "TypeError" ? TypeError : Error;
  const error: NodeJS.ErrnoException = new Class(data.message);
  if (data.code) error.code = data.code;
  if (data.stack) error.stack = data.stack;
  return error;
}
