/**
 * A MediaHost that spreads calls over threads of their own (media-thread.ts), each owning the sockets and the media
 * clock of its calls. SplitMediaHost (media-split.ts) uses them to send only: their event loops then run nothing
 * but the clock's sends, which no burst of packets to read can delay.
 *
 * A call goes to the thread with the fewest legs. The threads start with the first call. A clip's samples cross to a
 * thread once. If a thread dies, its legs end as if stopped (nothing played) and later calls go to the others.
 */
import type { Worker } from "node:worker_threads";
import { batchedPoster } from "../sip/batched-poster.js";
import { spawnModuleWorker } from "../sip/spawn-module-worker.js";
import { newSendTiming } from "./media-clock.js";
import type { MediaHost, MediaLeg, MediaOutcome } from "./media-host.js";
import type { FromMedia, MediaThreadStart, ToMedia } from "./media-thread-protocol.js";
import type { VoicePrompt } from "./prompt.js";
import type { RtpSessionOptions } from "./rtp-session.js";
import type { NegotiatedAudio } from "./sdp.js";

interface PendingLeg {
  thread: MediaThread;
  opened: ((port: number) => void) | null;
  failed: ((error: Error) => void) | null;
  played: ((outcome: MediaOutcome) => void) | null;
  codec: string;
}

interface MediaThread {
  worker: Worker;
  post: (message: ToMedia) => void;
  legs: number;
  /** Keys of the clips it has been sent. */
  clips: Set<string>;
  alive: boolean;
  exited: Promise<void>;
}

export class MediaThreads implements MediaHost {
  private threads: MediaThread[] | null = null;
  private readonly legs = new Map<number, PendingLeg>();
  private nextLeg = 1;
  private closed = false;

  constructor(
    private readonly count: number,
    private readonly start: MediaThreadStart,
  ) {
    if (!(count >= 1)) throw new RangeError(`media threads must be at least 1, not ${count}`);
  }

  open(sharedPort?: number): Promise<MediaLeg> {
    if (this.closed) return Promise.reject(new Error("media threads are closed"));
    this.threads ??= Array.from({ length: this.count }, () => this.spawn());
    let thread: MediaThread | null = null;
    for (const t of this.threads) if (t.alive && (!thread || t.legs < thread.legs)) thread = t;
    if (!thread) return Promise.reject(new Error("every media thread has died"));
    const l = this.nextLeg++;
    const chosen = thread;
    chosen.legs++;
    return new Promise((resolve, reject) => {
      const pending: PendingLeg = {
        thread: chosen,
        opened: (port) => resolve(new ThreadLeg(this, l, port)),
        failed: reject,
        played: null,
        codec: "",
      };
      this.legs.set(l, pending);
      chosen.post(sharedPort === undefined ? { t: "open", l } : { t: "open", l, sharedPort });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const thread of this.threads ?? []) if (thread.alive) thread.post({ t: "shutdown" });
    await Promise.all((this.threads ?? []).map((t) => t.exited));
  }

  /** @internal for ThreadLeg */
  play(l: number, remote: NegotiatedAudio, prompt: VoicePrompt, options: RtpSessionOptions): Promise<MediaOutcome> {
    const leg = this.legs.get(l);
    if (!leg?.thread.alive) return Promise.resolve(unplayed(remote.codec));
    const { clips, ...rest } = prompt;
    const fresh: [string, Int16Array][] = [];
    for (const part of [...prompt.speech, ...prompt.menu]) {
      const samples = clips.get(part);
      if (!samples || leg.thread.clips.has(part)) continue;
      leg.thread.clips.add(part);
      fresh.push([part, samples]);
    }
    leg.codec = remote.codec;
    return new Promise((resolve) => {
      leg.played = resolve;
      leg.thread.post({ t: "play", l, remote, prompt: rest, clips: fresh, options });
    });
  }

  /** @internal for ThreadLeg */
  send(l: number, t: "stop" | "close" | "key", key = ""): void {
    const leg = this.legs.get(l);
    if (!leg?.thread.alive) return;
    leg.thread.post(t === "key" ? { t, l, key } : { t, l });
    if (t === "close") this.forget(l);
  }

  private forget(l: number): void {
    const leg = this.legs.get(l);
    if (!leg) return;
    this.legs.delete(l);
    leg.thread.legs--;
  }

  private spawn(): MediaThread {
    const worker = spawnModuleWorker(import.meta.url, "./media-thread", this.start);
    // The calls' SIP sockets keep the process alive; an idle media thread should not.
    worker.unref();
    const { post } = batchedPoster<ToMedia>(worker);
    const thread: MediaThread = { worker, post, legs: 0, clips: new Set(), alive: true, exited: Promise.resolve() };
    worker.on("message", (batch: FromMedia[]) => {
      for (const m of batch) this.onMessage(m);
    });
    worker.on("error", (error) => process.emitWarning(`media thread: ${error.message}`));
    thread.exited = new Promise((resolve) => {
      worker.once("exit", () => {
        thread.alive = false;
        for (const [l, leg] of [...this.legs]) if (leg.thread === thread) this.lost(l, leg);
        resolve();
      });
    });
    return thread;
  }

  private onMessage(m: FromMedia): void {
    if (m.t === "closed") return;
    const leg = this.legs.get(m.l);
    if (!leg) return;
    if (m.t === "opened") {
      leg.opened?.(m.port);
      leg.opened = null;
    } else if (m.t === "unopened") {
      this.forget(m.l);
      leg.failed?.(Object.assign(new Error(m.message), { code: m.code }));
    } else {
      this.forget(m.l);
      leg.played?.(m.outcome);
    }
  }

  /** A leg whose thread died: an open fails, a play ends with nothing more sent. */
  private lost(l: number, leg: PendingLeg): void {
    this.forget(l);
    leg.failed?.(new Error("the media thread exited"));
    leg.played?.(unplayed(leg.codec));
  }
}

class ThreadLeg implements MediaLeg {
  constructor(
    private readonly host: MediaThreads,
    private readonly l: number,
    readonly port: number,
  ) {}

  play(remote: NegotiatedAudio, prompt: VoicePrompt, options: RtpSessionOptions = {}): Promise<MediaOutcome> {
    return this.host.play(this.l, remote, prompt, options);
  }

  key(key: string): void {
    this.host.send(this.l, "key", key);
  }

  stop(): void {
    this.host.send(this.l, "stop");
  }

  close(): void {
    this.host.send(this.l, "close");
  }
}

function unplayed(codec: string): MediaOutcome {
  return {
    end: "stopped",
    codeHeard: false,
    playedMs: 0,
    dtmf: "",
    replays: 0,
    codec,
    packetsReceived: 0,
    timing: newSendTiming(),
  };
}
