/**
 * A FlashCaller whose SipUac runs in its own worker thread.
 *
 * SIP keeps time on a UDP socket: a thread that is busy elsewhere (HTTP, SQLite) reads it too rarely, the kernel
 * drops datagrams and calls wait out 64*T1. In a worker the UAC keeps its timing whatever the calling thread does;
 * only the delivery of `onRinging` and `done` waits for the calling thread (their timestamps do not).
 *
 * Messages go both ways as one array per event-loop turn (see uac-worker-protocol.ts). `placeCall` checks its
 * options and names the call on the calling thread, so bad numbers throw there and `callId` is known at once.
 *
 * If the thread dies without close() (an uncaught exception, out of memory, terminate()), every pending call
 * settles with a `network_error` record (`done` still never rejects), later placeCall() calls throw, and `onError`
 * gets the cause. Calls already on the wire then get no CANCEL from us: the carrier ends them.
 *
 * The thread runs uac-worker-thread.js, or its TypeScript source under Vitest (see spawn-module-worker.ts).
 *
 * @example
 * const caller = await startSipUacWorker({ target: { host: "10.0.0.7", port: 5060 }, localAddress: "0.0.0.0" });
 * const call = caller.placeCall({ to: "+447400123456", cli: "+442079412345", ringTimeMs: 1500, maxDialMs: 15000 });
 * (await call.done).reason; // "ringing_canceled"
 * await caller.close(); // the thread exits
 */
import type { Worker } from "node:worker_threads";
import { type BatchedPoster, batchedPoster } from "./batched-poster.js";
import { checkCallOptions } from "./call-options.js";
import { invokeCallback } from "./callbacks.js";
import { newCallId } from "./ids.js";
import { spawnModuleWorker } from "./spawn-module-worker.js";
import type { SipTraceEntry, SipTraceMode } from "./trace.js";
import type { CallRecord, FlashCaller, PlaceCallOptions, PlacedCall, VoiceCallMedia } from "./types.js";
import {
  type FromWorker,
  fromErrorData,
  type SipUacThreadOptions,
  type ToWorker,
  type WireVoiceMedia,
  type WorkerStartData,
} from "./uac-worker-protocol.js";

export interface SipUacWorkerOptions extends SipUacThreadOptions {
  /**
   * Told why the thread died when it ends without close() (its pending calls have settled `network_error`).
   * Default: a process warning. Must not throw.
   */
  onError?: (error: Error) => void;
  /** Trace every SIP message (see trace.ts): `redacted` or `full`. Default none. */
  trace?: SipTraceMode;
  /** Receives the trace, one call per batch from the thread, in order. Must not throw. */
  onTrace?: (entries: SipTraceEntry[]) => void;
}

/** How long close() waits for the thread to wind down before terminating it. */
const CLOSE_TIMEOUT_MS = 5000;

/**
 * Starts a worker thread running a SipUac with these options and resolves once its socket is bound.
 * @throws what SipUac.create throws (RangeError for bad hosts, the bind error with its code); TypeError for `now`,
 *   which cannot cross threads (records use the worker's Date.now).
 */
export async function startSipUacWorker(options: SipUacWorkerOptions): Promise<SipUacWorker> {
  const { onError, trace, onTrace, ...uacOptions } = options as SipUacWorkerOptions & { now?: unknown };
  if (uacOptions.now !== undefined) throw new TypeError("`now` cannot be passed to a SIP worker thread");
  if ((uacOptions as { tap?: unknown }).tap !== undefined) {
    throw new TypeError("`tap` cannot be passed to a SIP worker thread: use `trace` and `onTrace`");
  }
  const start: WorkerStartData = trace && onTrace ? { options: uacOptions, trace } : { options: uacOptions };
  const worker = spawnModuleWorker(import.meta.url, "./uac-worker-thread", start);
  return new Promise((resolve, reject) => {
    // Only our own listeners come off: Worker keeps internal ones (removeAllListeners would stop its port).
    const stopListening = () => {
      worker.off("error", fail);
      worker.off("exit", onExit);
      worker.off("message", onMessage);
    };
    const fail = (error: Error) => {
      stopListening();
      void worker.terminate();
      reject(error);
    };
    const onExit = (code: number) => fail(new Error(`SIP worker thread exited during start-up (code ${code})`));
    const onMessage = (batch: FromWorker[]) => {
      const first = batch[0];
      if (first?.t === "ready") {
        stopListening();
        resolve(new SipUacWorker(worker, first.local, onError, trace ? onTrace : undefined));
      } else if (first?.t === "error") {
        fail(fromErrorData(first.error));
      } else {
        fail(new Error(`SIP worker thread sent ${first?.t ?? "nothing"} before ready`));
      }
    };
    worker.on("error", fail);
    worker.on("exit", onExit);
    worker.on("message", onMessage);
  });
}

interface PendingCall {
  callId: string;
  /** For the record of a call the thread died with; the worker's own records carry its times. */
  startedAt: number;
  /** Known here only for calls with an onRinging (the worker reports rings only for those). */
  ringingAt: number | null;
  cancelled: boolean;
  onRinging: ((at: number) => void) | undefined;
  resolve: (record: CallRecord) => void;
}

/** A FlashCaller backed by a worker thread; made by startSipUacWorker(). */
export class SipUacWorker implements FlashCaller {
  private readonly calls = new Map<number, PendingCall>();
  private nextHandle = 1;
  /** OPTIONS probes in the worker, by their own handle; resolved null if the thread dies. */
  private readonly probes = new Map<number, (status: number | null) => void>();
  /** Keys of the prompt clips the thread has been sent (it keeps them for every later call). */
  private readonly sentClips = new Set<string>();
  private nextProbe = 1;
  /**
   * Batches go once the current microtasks have run, not at the next setImmediate: calls are placed from the
   * continuations of a store commit, which itself runs in the check phase, so an immediate queued there would wait
   * behind a whole further poll phase of requests before the INVITE leaves. The continuations of one commit still
   * share one message, since they run in the same microtask checkpoint ahead of this one.
   */
  private readonly poster: BatchedPoster<ToWorker>;
  /** No more calls: close() was called or the thread is gone. */
  private closed = false;
  private closing: Promise<void> | null = null;
  /** Why the thread died, when it did without close(). */
  private crash: Error | null = null;
  /** close() or terminate() was called: an exit is expected. */
  private stopping = false;
  private readonly exited: Promise<void>;

  /** @internal use startSipUacWorker() */
  constructor(
    private readonly worker: Worker,
    /** The worker's bound socket address (what Via and Contact advertise). */
    readonly local: { address: string; port: number },
    private readonly onError: ((error: Error) => void) | undefined,
    private readonly onTrace: ((entries: SipTraceEntry[]) => void) | undefined = undefined,
  ) {
    this.poster = batchedPoster<ToWorker>(worker, queueMicrotask);
    worker.on("message", (batch: FromWorker[]) => this.onMessages(batch));
    worker.on("error", (error) => {
      this.crash ??= error;
    });
    // A batch that cannot be read holds records that would never arrive: treat it as the thread's death.
    worker.on("messageerror", (error) => {
      this.crash ??= error;
      void worker.terminate();
    });
    this.exited = new Promise((resolve) => {
      worker.once("exit", (code) => {
        this.onExit(code);
        resolve();
      });
    });
  }

  /** Calls placed whose record has not arrived from the worker yet. */
  get activeCalls(): number {
    return this.calls.size;
  }

  /** The worker's thread id, for diagnostics. */
  get threadId(): number {
    return this.worker.threadId;
  }

  /**
   * Places a flash call in the worker. `done` always resolves (with `network_error` if the thread dies first).
   * @throws RangeError when `to` or `cli` is not E.164; Error after close() or once the thread is gone.
   */
  placeCall(options: PlaceCallOptions): PlacedCall {
    if (this.closed)
      throw new Error(this.crash ? `SIP worker thread is gone: ${this.crash.message}` : "SipUac is closed");
    checkCallOptions(options);
    const h = this.nextHandle++;
    const callId = newCallId();
    let resolve!: (record: CallRecord) => void;
    const done = new Promise<CallRecord>((r) => {
      resolve = r;
    });
    const pending: PendingCall = {
      callId,
      startedAt: Date.now(),
      ringingAt: null,
      cancelled: false,
      onRinging: options.onRinging,
      resolve,
    };
    this.calls.set(h, pending);
    const message: Extract<ToWorker, { t: "place" }> = {
      t: "place",
      h,
      callId,
      to: options.to,
      cli: options.cli,
      ringTimeMs: options.ringTimeMs,
      maxDialMs: options.maxDialMs,
      ring: options.onRinging !== undefined,
    };
    if (options.cliUser !== undefined) message.cliUser = options.cliUser;
    if (options.toUser !== undefined) message.toUser = options.toUser;
    if (options.pAssertedIdentity !== undefined) message.pai = options.pAssertedIdentity;
    if (options.headers !== undefined) message.headers = options.headers;
    if (options.media !== undefined) message.media = this.wireMedia(options.media);
    this.enqueue(message);
    return {
      callId,
      done,
      cancel: () => {
        if (pending.cancelled || !this.calls.has(h) || this.closed) return;
        pending.cancelled = true;
        this.enqueue({ t: "cancel", h });
      },
    };
  }

  /** A prompt crosses with only the clips the thread does not have yet: a clip's samples cross once. */
  private wireMedia(media: VoiceCallMedia): WireVoiceMedia {
    const { clips, ...prompt } = media.prompt;
    const fresh: [string, Int16Array][] = [];
    for (const [key, samples] of clips) {
      if (this.sentClips.has(key)) continue;
      this.sentClips.add(key);
      fresh.push([key, samples]);
    }
    return { prompt, clips: fresh, maxCallMs: media.maxCallMs };
  }

  /**
   * Sends OPTIONS to the next hop from the worker. Resolves with the final status, or null on no answer within
   * `timeoutMs` (default 64*T1), a transport failure, close() or the thread's death. Never rejects.
   */
  probe(timeoutMs?: number): Promise<number | null> {
    if (this.closed) return Promise.resolve(null);
    const p = this.nextProbe++;
    return new Promise((resolve) => {
      this.probes.set(p, resolve);
      this.enqueue({ t: "probe", p, timeoutMs });
    });
  }

  /** Ends in-flight calls in the worker (their records arrive first), closes its socket and waits for it to exit. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  /**
   * Stops the thread at once, as a crash would: no CANCELs are sent and pending calls settle `network_error`.
   * For a shutdown that cannot wait; close() is the orderly way. `onError` is not called.
   */
  async terminate(): Promise<void> {
    this.stopping = true;
    this.closed = true;
    await this.worker.terminate();
    await this.exited;
  }

  private async shutDown(): Promise<void> {
    if (this.closed) return this.exited; // already gone, or terminate() is under way
    this.closed = true;
    this.stopping = true;
    this.enqueue({ t: "close" });
    this.poster.flush();
    const timer = setTimeout(() => {
      this.crash ??= new Error(`SIP worker thread did not close within ${CLOSE_TIMEOUT_MS} ms; terminated`);
      this.report(this.crash);
      void this.worker.terminate();
    }, CLOSE_TIMEOUT_MS);
    timer.unref();
    await this.exited;
    clearTimeout(timer);
  }

  private enqueue(message: ToWorker): void {
    this.poster.post(message);
  }

  private onMessages(batch: FromWorker[]): void {
    const traced: SipTraceEntry[] = [];
    for (const m of batch) {
      switch (m.t) {
        case "trace":
          traced.push(m.entry);
          break;
        case "ringing": {
          const call = this.calls.get(m.h);
          if (!call || call.ringingAt !== null) break;
          call.ringingAt = m.at;
          invokeCallback(call.onRinging, m.at, "onRinging");
          break;
        }
        case "ended": {
          const call = this.calls.get(m.h);
          if (!call) break;
          this.calls.delete(m.h);
          call.resolve(m.record);
          break;
        }
        case "probed": {
          const resolve = this.probes.get(m.p);
          this.probes.delete(m.p);
          resolve?.(m.status);
          break;
        }
        case "error": {
          const error = fromErrorData(m.error);
          if (m.h !== null) this.settle(m.h, "network_error");
          this.report(error);
          break;
        }
        case "ready":
        case "closed":
          break;
      }
    }
    if (traced.length > 0 && this.onTrace) invokeCallback(this.onTrace, traced, "onTrace");
  }

  private onExit(code: number): void {
    this.closed = true;
    for (const h of [...this.calls.keys()]) this.settle(h, "network_error");
    for (const resolve of this.probes.values()) resolve(null);
    this.probes.clear();
    if (this.stopping) return;
    this.crash ??= new Error(`SIP worker thread exited unexpectedly (code ${code})`);
    this.report(this.crash);
  }

  private settle(h: number, reason: CallRecord["reason"]): void {
    const call = this.calls.get(h);
    if (!call) return;
    this.calls.delete(h);
    call.resolve({
      callId: call.callId,
      startedAt: call.startedAt,
      ringingAt: call.ringingAt,
      endedAt: Date.now(),
      finalCode: null,
      reason,
      reasonHeader: null,
    });
  }

  private report(error: Error): void {
    if (this.onError) invokeCallback(this.onError, error, "onError");
    else
      process.emitWarning(`SIP worker: ${error.message}`, { type: "FlashverifySipWorkerWarning", detail: error.stack });
  }
}
