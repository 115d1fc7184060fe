/**
 * baresip (Debian `baresip`) as a real SIP phone for interop tests: headless, with a temporary config dir, no audio
 * device (ausine as the source, aufile to /dev/null as the player), one account for the number it answers, and its
 * control port (ctrl_tcp, netstring-framed JSON) reporting call events such as CALL_INCOMING with `peeruri`, the
 * caller's From URI.
 *
 * @example
 * const phone = await startBaresip({ address: "127.0.0.45", number: "+447400123456" });
 * const incoming = await phone.nextEvent("CALL_INCOMING"); // { peeruri: "sip:+442079412345@...", ... }
 * await phone.close();
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freeTcpPort, freeUdpPort } from "../sipp/sipp-tools.js";

export const BARESIP_MODULES = "/usr/lib/baresip/modules";

export function baresipInstalled(): boolean {
  return existsSync(join(BARESIP_MODULES, "ctrl_tcp.so")) && existsSync(join(BARESIP_MODULES, "ausine.so"));
}

export interface BaresipEvent {
  type: string;
  peeruri?: string;
  peerdisplayname?: string;
  param?: string;
  [key: string]: unknown;
}

export interface Baresip {
  /** Where it takes calls. */
  sip: { address: string; port: number };
  /** Resolves with the next event of this type (or one already received and not yet taken). */
  nextEvent(type: string, timeoutMs?: number): Promise<BaresipEvent>;
  /** What it printed, for failure messages. */
  output(): string;
  close(): Promise<void>;
}

export async function startBaresip(options: { address: string; number: string }): Promise<Baresip> {
  const dir = mkdtempSync(join(tmpdir(), "flashverify-baresip-"));
  const sipPort = await freeUdpPort(options.address);
  const ctrlPort = await freeTcpPort(options.address);
  writeFileSync(
    join(dir, "config"),
    [
      `sip_listen ${options.address}:${sipPort}`,
      "sip_transports udp",
      `module_path ${BARESIP_MODULES}`,
      "module g711.so",
      "module ausine.so",
      "module aufile.so",
      "module_app account.so",
      "module_app ctrl_tcp.so",
      `ctrl_tcp_listen ${options.address}:${ctrlPort}`,
      "audio_source ausine,440",
      "audio_player aufile,/dev/null",
      "audio_alert aufile,/dev/null",
      "",
    ].join("\n"),
  );
  // answermode=manual: it rings (180) until the caller gives up, as a phone whose user does not pick up.
  writeFileSync(join(dir, "accounts"), `<sip:${options.number}@${options.address}>;regint=0;answermode=manual\n`);

  const child: ChildProcess = spawn("baresip", ["-f", dir], { stdio: ["ignore", "pipe", "pipe"] });
  let printed = "";
  const keep = (chunk: Buffer) => {
    printed = (printed + chunk.toString()).slice(-8000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await Promise.race([exited, sleep(3000)]);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };

  let control: Socket;
  try {
    control = await connectWhenListening(options.address, ctrlPort, child);
  } catch (error) {
    await stop();
    throw new Error(`baresip did not start: ${(error as Error).message}\n${printed}`);
  }

  const events: BaresipEvent[] = [];
  const waiters: { type: string; resolve: (e: BaresipEvent) => void }[] = [];
  let buffer = "";
  control.on("data", (chunk: Buffer) => {
    buffer += chunk.toString("utf8");
    for (;;) {
      // netstring: <length>:<payload>,
      const colon = buffer.indexOf(":");
      if (colon < 0) return;
      const length = Number(buffer.slice(0, colon));
      if (buffer.length < colon + 1 + length + 1) return;
      const payload = buffer.slice(colon + 1, colon + 1 + length);
      buffer = buffer.slice(colon + 1 + length + 1);
      const message = JSON.parse(payload) as BaresipEvent & { event?: boolean };
      if (!message.event) continue;
      const waiter = waiters.findIndex((w) => w.type === message.type);
      if (waiter >= 0) waiters.splice(waiter, 1)[0]?.resolve(message);
      else events.push(message);
    }
  });

  return {
    sip: { address: options.address, port: sipPort },
    nextEvent(type, timeoutMs = 10_000) {
      const index = events.findIndex((e) => e.type === type);
      if (index >= 0) return Promise.resolve(events.splice(index, 1)[0] as BaresipEvent);
      return new Promise((resolve, reject) => {
        const waiter = {
          type,
          resolve: (e: BaresipEvent) => {
            clearTimeout(timer);
            resolve(e);
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`baresip reported no ${type} within ${timeoutMs} ms:\n${printed}`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    output: () => printed,
    async close() {
      control.destroy();
      await stop();
    },
  };
}

async function connectWhenListening(address: string, port: number, child: ChildProcess): Promise<Socket> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const socket = connect(port, address);
        socket.once("connect", () => resolve(socket));
        socket.once("error", reject);
      });
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(50);
    }
  }
}
