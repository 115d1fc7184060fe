/**
 * The harness's child processes and their end: every child is registered here, and on exit, error, SIGINT or
 * SIGTERM all of them get SIGTERM (the server shuts down gracefully and writes its --cpu-prof profile), then
 * SIGKILL after a grace period. The children also watch for the harness's death themselves (orphan-guard.ts and the
 * load process's IPC), which covers a harness killed with SIGKILL, where no handler here can run.
 */
import type { ChildProcess } from "node:child_process";

const GRACE_MS = 8000;

export class Children {
  private readonly children = new Map<ChildProcess, string>();
  /** per child, so a child added after an earlier stopAll (the SIPp ceiling runs after the server stopped) is stopped too */
  private readonly stopping = new Map<ChildProcess, Promise<void>>();

  /** Registers a child to be ended with the harness; `name` is for messages. */
  add(child: ChildProcess, name: string): void {
    this.children.set(child, name);
    child.once("exit", () => {
      this.children.delete(child);
      this.stopping.delete(child);
    });
  }

  /** SIGTERM to every child still running, SIGKILL to those still there after the grace period. */
  stopAll(): Promise<void> {
    const stops = [...this.children].map(([child, name]) => {
      let stopped = this.stopping.get(child);
      if (!stopped) {
        stopped = stop(child, name);
        this.stopping.set(child, stopped);
      }
      return stopped;
    });
    return Promise.all(stops).then(() => undefined);
  }

  /** Last resort from a synchronous `exit` handler: SIGKILL whatever is left. */
  killAllNow(): void {
    for (const child of this.children.keys()) if (isRunning(child)) child.kill("SIGKILL");
  }

  /**
   * Ends the children whenever the harness ends: `onSignal` runs its own cleanup first (printing partial results)
   * and decides the exit code.
   */
  installExitHandlers(onSignal: (signal: NodeJS.Signals) => Promise<number>): void {
    process.once("exit", () => this.killAllNow());
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
      process.once(signal, () => {
        onSignal(signal)
          .catch(() => 130)
          .then(async (code) => {
            await this.stopAll();
            process.exit(code);
          });
      });
    }
  }
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function stop(child: ChildProcess, name: string): Promise<void> {
  if (!isRunning(child)) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      if (!isRunning(child)) return;
      // Worth knowing: a server that ignores SIGTERM this long would be killed by any supervisor too.
      console.error(`the ${name} (pid ${child.pid}) was still running ${GRACE_MS / 1000} s after SIGTERM: SIGKILL`);
      child.kill("SIGKILL");
    }, GRACE_MS);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
