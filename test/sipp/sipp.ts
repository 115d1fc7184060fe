/**
 * Runs SIPp for the interop suites: one process per scenario, on its own loopback address and a fresh port, with
 * every trace SIPp can give (message log, error log, statistics) collected into a temporary directory, so a test
 * can assert both what SIPp concluded (exit code, successful/failed calls) and what went over the wire.
 *
 * @example
 * const sipp = await startSipp({ scenario: "uas-busy.xml", address: "127.0.0.3" });
 * // ... call sipp.address:sipp.port ...
 * const run = await sipp.result; // { exitCode: 0, successful: 1, failed: 0, messages: [...] }
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { freeTcpPort, freeUdpPort, lastStatistics, portTaken, tcpPortTaken } from "./sipp-tools.js";

const SCENARIO_DIR = fileURLToPath(new URL(".", import.meta.url));

export interface SippMessage {
  direction: "sent" | "received";
  /** The whole message as SIPp logged it. */
  text: string;
  /** e.g. "ACK sip:+44...@127.0.0.3 SIP/2.0" or "SIP/2.0 487 Request Terminated" */
  startLine: string;
}

export interface SippResult {
  /** 0: every call succeeded; 1: some failed; 97/99: stopped without completing; null: killed. */
  exitCode: number | null;
  successful: number;
  failed: number;
  messages: SippMessage[];
  /** SIPp's error log (unexpected messages, aborted calls); "" when clean. */
  errors: string;
  /** stdout and stderr, for failure messages. */
  output: string;
}

export interface SippOptions {
  /** File name inside test/sipp. */
  scenario: string;
  /** SIPp's own loopback address. */
  address: string;
  /** Its port; default a free one. */
  port?: number;
  /** For SIPp as the caller: "host:port" to call. Without it SIPp is the server. */
  remote?: string;
  /** Calls to complete before exiting. Default 1. */
  calls?: number;
  /** Global timeout after which SIPp fails. Default 10. */
  timeoutSeconds?: number;
  /** "udp" (default) or "tcp" (SIPp's `-t t1`: one connection). */
  transport?: "udp" | "tcp";
  extraArgs?: string[];
}

export interface SippProcess {
  address: string;
  port: number;
  result: Promise<SippResult>;
}

/** SIPp's exit code when it cannot bind its socket. */
const SIPP_BIND_FAILED = 254;

/**
 * Starts SIPp and, for a server scenario, waits until it is listening (an INVITE sent earlier would bounce).
 * A free port can be taken by another process between our probe and SIPp's bind (test files run in parallel),
 * so a bind failure on a port we chose is retried on a fresh one.
 */
export async function startSipp(options: SippOptions): Promise<SippProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await launchSipp(options);
    } catch (error) {
      const portRace = error instanceof SippBindError && options.port === undefined && attempt < 5;
      if (!portRace) throw error;
    }
  }
}

class SippBindError extends Error {}

async function launchSipp(options: SippOptions): Promise<SippProcess> {
  const dir = await mkdtemp(join(tmpdir(), "flashverify-sipp-"));
  const tcp = options.transport === "tcp";
  const port = options.port ?? (tcp ? await freeTcpPort(options.address) : await freeUdpPort(options.address));
  const args = [
    ...(options.remote ? [options.remote] : []),
    "-sf",
    join(SCENARIO_DIR, options.scenario),
    "-i",
    options.address,
    "-p",
    String(port),
    "-bind_local",
    "-m",
    String(options.calls ?? 1),
    "-timeout",
    `${options.timeoutSeconds ?? 10}s`,
    "-timeout_error",
    "-buff_size",
    "4194304",
    "-nostdin",
    ...(tcp ? ["-t", "t1"] : []),
    "-trace_msg",
    "-message_file",
    join(dir, "messages.log"),
    "-trace_err",
    "-error_file",
    join(dir, "errors.log"),
    "-trace_stat",
    "-stf",
    join(dir, "stat.csv"),
    ...(options.extraArgs ?? []),
  ];
  const child = spawn("sipp", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  let exited = false;
  const exit = new Promise<number | null>((resolve) => {
    child.on("error", () => resolve(null));
    child.on("exit", (code) => {
      exited = true;
      resolve(code);
    });
  });
  const result = exit.then(async (exitCode) => {
    const [messages, errors, stats] = await Promise.all([
      readFile(join(dir, "messages.log"), "utf8").catch(() => ""),
      readFile(join(dir, "errors.log"), "utf8").catch(() => ""),
      readFile(join(dir, "stat.csv"), "utf8").catch(() => ""),
    ]);
    await rm(dir, { recursive: true, force: true });
    return {
      exitCode,
      ...finalStats(stats),
      messages: parseMessageLog(messages),
      errors: scenarioErrors(errors),
      output,
    };
  });
  if (!options.remote) {
    const deadline = Date.now() + 5000;
    while (!(await (tcp ? tcpPortTaken : portTaken)(options.address, port))) {
      if (exited || Date.now() > deadline) {
        const run = await result;
        // It already did all it was asked (an OPTIONS probe arrived and was answered before the port was seen bound):
        // it started and finished, which is no failure to start.
        if (exited && run.exitCode === 0) break;
        if (run.exitCode === SIPP_BIND_FAILED) throw new SippBindError(`SIPp could not bind port ${port}`);
        throw new Error(`SIPp did not start (exit ${run.exitCode}): ${run.output.slice(-2000)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  return { address: options.address, port, result };
}

/**
 * SIPp's error log without its watchdog's overload warnings: those say SIPp itself was descheduled for over 500 ms
 * (a loaded machine), not that a message or a timer of the scenario went wrong, which is what a test asserts on.
 */
function scenarioErrors(log: string): string {
  const lines = log
    .split("\n")
    .filter((line) => line.trim() !== "" && !/Overload warning: the \w+ watchdog timer/.test(line));
  return lines.every((line) => /^The following events occurred:/.test(line)) ? "" : lines.join("\n");
}

/** Messages in SIPp's message log, in order. */
function parseMessageLog(log: string): SippMessage[] {
  const messages: SippMessage[] = [];
  for (const block of log.split(/^-{20,} .*$/m)) {
    const match = /^\s*(?:UDP|TCP) message (sent|received)[^\n]*\n\n([\s\S]*)$/.exec(block);
    if (!match) continue;
    const text = match[2]!.replace(/\r\n/g, "\n").trim();
    messages.push({
      direction: match[1] === "sent" ? "sent" : "received",
      text,
      startLine: text.split("\n", 1)[0]!.trim(),
    });
  }
  return messages;
}

/** The cumulative SuccessfulCall/FailedCall counters from the last line of SIPp's statistics file. */
function finalStats(csv: string): { successful: number; failed: number } {
  const field = lastStatistics(csv);
  if (!field) return { successful: 0, failed: 0 };
  const value = (name: string) => Number(field(name) || Number.NaN);
  return { successful: value("SuccessfulCall(C)"), failed: value("FailedCall(C)") };
}

/** The header lines of a logged message with this name (case-insensitive), values only. */
export function headerValues(message: SippMessage, name: string): string[] {
  const prefix = `${name.toLowerCase()}:`;
  return message.text
    .split("\n")
    .filter((line) => line.toLowerCase().startsWith(prefix))
    .map((line) => line.slice(prefix.length).trim());
}

/** The scenario ran to its end once: SIPp exited 0 with one successful call and no errors. */
export function expectScenarioPassed(run: SippResult): void {
  expect({ exitCode: run.exitCode, successful: run.successful, failed: run.failed, errors: run.errors }).toEqual({
    exitCode: 0,
    successful: 1,
    failed: 0,
    errors: "",
  });
}
