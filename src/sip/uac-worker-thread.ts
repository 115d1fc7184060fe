/**
 * The worker thread's main module: one SipUac driven by the messages of uac-worker-protocol.ts. It has the thread
 * to itself, so its socket is read and its timers fire on time however busy the calling thread is.
 *
 * Started only by startSipUacWorker(); it exits by itself once closed (the port is closed last).
 */
import { type MessagePort, parentPort, workerData } from "node:worker_threads";
import { raiseRtpThread } from "../media/rtp-priority.js";
import { batchedPoster } from "./batched-poster.js";
import { traceEntry } from "./trace.js";
import type { PlacedCall, VoiceCallMedia } from "./types.js";
import { SipUac } from "./uac.js";
import {
  type FromWorker,
  type ToWorker,
  toErrorData,
  type WireVoiceMedia,
  type WorkerStartData,
} from "./uac-worker-protocol.js";

if (!parentPort) throw new Error("uac-worker-thread must run in a worker thread (use startSipUacWorker)");
const port: MessagePort = parentPort;

const { post, flush } = batchedPoster<FromWorker>(port);

async function main(): Promise<void> {
  const { options, trace } = workerData as WorkerStartData;
  // Only when this thread sends the RTP itself: with media threads it only reads it, and raised with them it would
  // contend with them.
  if (options.media?.threads === 0) raiseRtpThread(options.media.priority, "SIP worker");
  let uac: SipUac;
  try {
    uac = await SipUac.create(
      trace
        ? { ...options, tap: (dir, data) => post({ t: "trace", entry: traceEntry(dir, data, trace, Date.now()) }) }
        : options,
    );
  } catch (error) {
    port.postMessage([{ t: "error", h: null, error: toErrorData(error) }] satisfies FromWorker[]);
    port.close();
    return;
  }
  const calls = new Map<number, PlacedCall>();
  /** Prompt clips by key, as the calling thread sent them (each once). */
  const clips = new Map<string, Int16Array>();

  const voiceMedia = (wire: WireVoiceMedia): VoiceCallMedia => {
    for (const [key, samples] of wire.clips) clips.set(key, samples);
    return { prompt: { ...wire.prompt, clips }, maxCallMs: wire.maxCallMs };
  };

  const place = (m: Extract<ToWorker, { t: "place" }>): void => {
    const h = m.h;
    let call: PlacedCall;
    try {
      call = uac.placeCallWithId(m.callId, {
        to: m.to,
        cli: m.cli,
        ringTimeMs: m.ringTimeMs,
        maxDialMs: m.maxDialMs,
        onRinging: m.ring ? (at) => post({ t: "ringing", h, at }) : undefined,
        cliUser: m.cliUser,
        toUser: m.toUser,
        pAssertedIdentity: m.pai,
        headers: m.headers,
        media: m.media ? voiceMedia(m.media) : undefined,
      });
    } catch (error) {
      // The calling thread checked the options already, so this is a bug; that side settles the call.
      post({ t: "error", h, error: toErrorData(error) });
      return;
    }
    calls.set(h, call);
    call.done.then((record) => {
      calls.delete(h);
      post({ t: "ended", h, record });
    });
  };

  const close = async (): Promise<void> => {
    port.off("message", onMessage);
    // Abandoned calls settle synchronously inside close(); their `ended` is queued before the socket is closed.
    await uac.close();
    post({ t: "closed" });
    flush();
    port.close();
  };

  const onMessage = (batch: ToWorker[]): void => {
    for (const m of batch) {
      if (m.t === "place") place(m);
      else if (m.t === "cancel") calls.get(m.h)?.cancel();
      else if (m.t === "probe") {
        const p = m.p;
        void uac.probe(m.timeoutMs).then((status) => post({ t: "probed", p, status }));
      } else {
        void close();
        return;
      }
    }
  };

  port.on("message", onMessage);
  port.postMessage([{ t: "ready", local: uac.local }] satisfies FromWorker[]);
}

void main();
