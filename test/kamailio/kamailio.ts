/**
 * Runs Kamailio for the interop tests: test/kamailio/carrier-edge.cfg in the foreground (-DD -E) on its own
 * loopback address and a free port (UDP and TCP), with 1 GiB of shared memory (-m 1024), relaying to `handsets`.
 * Its log is kept for assertions; stop() kills it and waits for it to exit.
 *
 * @example
 * const edge = await startKamailio({ address: "127.0.0.30", handsets: "sip:127.0.0.31:5070" });
 * // ... call edge.address:edge.port ...
 * await edge.stop();
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freeUdpPort, portTaken, tcpPortTaken } from "../sipp/sipp-tools.js";

const CONFIG = fileURLToPath(new URL("./carrier-edge.cfg", import.meta.url));

export interface KamailioProcess {
  address: string;
  port: number;
  /** stderr and stdout so far. */
  readonly log: string;
  stop(): Promise<void>;
}

export async function startKamailio(options: { address: string; handsets: string }): Promise<KamailioProcess> {
  const port = await freeUdpPort(options.address);
  const child: ChildProcess = spawn(
    "kamailio",
    [
      "-f",
      CONFIG,
      "-DD",
      "-E",
      "-m",
      "1024",
      "-M",
      "16",
      "-A",
      `HANDSETS="${options.handsets}"`,
      "-l",
      `udp:${options.address}:${port}`,
      "-l",
      `tcp:${options.address}:${port}`,
      "-Y",
      "/tmp",
      "-w",
      "/tmp",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    log += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    log += chunk.toString();
  });
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.on("exit", () => {
      exited = true;
      resolve();
    });
  });
  const deadline = Date.now() + 10_000;
  while (!(await portTaken(options.address, port)) || !(await tcpPortTaken(options.address, port))) {
    if (exited || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`Kamailio did not start: ${log.slice(-3000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    address: options.address,
    port,
    get log() {
      return log;
    },
    async stop() {
      if (exited) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exit;
      clearTimeout(timer);
    },
  };
}
