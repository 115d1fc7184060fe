/**
 * The harness's side of the load process: forks bench/load.js with an IPC channel and turns its messages into
 * promises (ready -> SIP port, step -> result). A `fatal` message or an unexpected exit rejects whatever is waiting,
 * so a crashed generator fails the run instead of hanging it.
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type FromLoad, isMessage, type StepLoadResult, type StepRequest, type ToLoad } from "./protocol.js";

const LOAD_MAIN = fileURLToPath(new URL("./load.js", import.meta.url));

export type ProgressMessage = Extract<FromLoad, { type: "progress" }>;

export class LoadProcess {
  private waiting: { resolve(m: FromLoad): void; reject(e: Error): void; type: FromLoad["type"] } | null = null;
  private onProgress: ((p: ProgressMessage) => void) | null = null;

  private constructor(
    readonly child: ChildProcess,
    readonly sip: { address: string; port: number },
  ) {}

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** Forks the load process and waits until its handsets are bound. */
  static async start(handsetsAddress: string): Promise<LoadProcess> {
    const child = fork(LOAD_MAIN, [handsetsAddress], { stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv: [] });
    let self: LoadProcess | null = null;
    const ready = new Promise<FromLoad>((resolve, reject) => {
      const early = { resolve, reject, type: "ready" as const };
      child.on("message", (message: unknown) => {
        if (!isMessage<FromLoad>(message, ["ready", "progress", "step-done", "fatal"])) return;
        if (self) self.receive(message);
        else if (message.type === "ready") resolve(message);
        else if (message.type === "fatal") reject(new Error(`load process: ${message.message}`));
      });
      child.once("exit", (code, signal) => {
        const error = new Error(`the load process exited (${code ?? signal})`);
        if (self) self.fail(error);
        else early.reject(error);
      });
    });
    const message = await ready;
    if (message.type !== "ready") throw new Error("load process: no ready message");
    self = new LoadProcess(child, message.sip);
    return self;
  }

  configure(baseUrls: string[], apiKey: string, maxSockets: number): void {
    this.send({ type: "configure", baseUrls, apiKey, maxSockets });
  }

  /** Runs one step in the load process; `onProgress` hears about it once a second. */
  async runStep(step: StepRequest, onProgress: (p: ProgressMessage) => void): Promise<StepLoadResult> {
    this.onProgress = onProgress;
    const done = this.waitFor("step-done");
    this.send({ type: "step", step });
    const message = await done;
    this.onProgress = null;
    if (message.type !== "step-done") throw new Error("load process: unexpected answer");
    return message.result;
  }

  stop(): void {
    if (this.child.connected) this.send({ type: "stop" });
  }

  private send(message: ToLoad): void {
    this.child.send(message);
  }

  private waitFor(type: FromLoad["type"]): Promise<FromLoad> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject, type };
    });
  }

  private receive(message: FromLoad): void {
    if (message.type === "progress") {
      this.onProgress?.(message);
    } else if (message.type === "fatal") {
      this.fail(new Error(`load process: ${message.message}`));
    } else if (this.waiting?.type === message.type) {
      const waiting = this.waiting;
      this.waiting = null;
      waiting.resolve(message);
    }
  }

  private fail(error: Error): void {
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.reject(error);
  }
}
