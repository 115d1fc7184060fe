/**
 * A media thread's main module: a LocalMediaHost driven by the messages of media-thread-protocol.ts. Its event loop
 * does nothing but its calls' RTP, so no SIP work delays its sends (nor, when another thread reads, any reading).
 *
 * Started only by MediaThreads; it exits once shut down (the port is closed last).
 */
import { type MessagePort, parentPort, workerData } from "node:worker_threads";
import { batchedPoster } from "../sip/batched-poster.js";
import { LocalMediaHost, type MediaLeg } from "./media-host.js";
import type { FromMedia, MediaThreadStart, ToMedia } from "./media-thread-protocol.js";
import { raiseRtpThread } from "./rtp-priority.js";

if (!parentPort) throw new Error("media-thread must run in a worker thread (use MediaThreads)");
const port: MessagePort = parentPort;
const { post, flush } = batchedPoster<FromMedia>(port);
const start = workerData as MediaThreadStart;

raiseRtpThread(start.priority, "media thread");

const host = new LocalMediaHost(start.address, start.ports);
const legs = new Map<number, MediaLeg>();
const clips = new Map<string, Int16Array>();
/** Legs closed before their socket was bound: closed as soon as it is. */
const unwanted = new Set<number>();

const open = (l: number, sharedPort: number | undefined): void => {
  host.open(sharedPort).then(
    (leg) => {
      if (unwanted.delete(l)) return leg.close();
      legs.set(l, leg);
      post({ t: "opened", l, port: leg.port });
    },
    (error: NodeJS.ErrnoException) => {
      unwanted.delete(l);
      post({ t: "unopened", l, message: error.message, code: error.code });
    },
  );
};

const play = (m: Extract<ToMedia, { t: "play" }>): void => {
  const leg = legs.get(m.l);
  if (!leg) return;
  for (const [key, samples] of m.clips) clips.set(key, samples);
  leg.play(m.remote, { ...m.prompt, clips }, m.options).then((outcome) => {
    legs.delete(m.l);
    post({ t: "played", l: m.l, outcome });
  });
};

const close = (l: number): void => {
  const leg = legs.get(l);
  if (!leg) unwanted.add(l);
  legs.delete(l);
  leg?.close();
};

const shutdown = async (): Promise<void> => {
  port.off("message", onMessage);
  await host.close();
  // The `played` of every stopped leg is posted from its promise's continuation: let those run first.
  await new Promise((resolve) => setImmediate(resolve));
  post({ t: "closed" });
  flush();
  port.close();
};

const onMessage = (batch: ToMedia[]): void => {
  for (const m of batch) {
    if (m.t === "open") open(m.l, m.sharedPort);
    else if (m.t === "play") play(m);
    else if (m.t === "stop") legs.get(m.l)?.stop();
    else if (m.t === "key") legs.get(m.l)?.key(m.key);
    else if (m.t === "close") close(m.l);
    else {
      void shutdown();
      return;
    }
  }
};
port.on("message", onMessage);
