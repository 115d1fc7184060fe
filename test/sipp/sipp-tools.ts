/**
 * Small SIPp helpers shared by the interop tests (test/sipp/sipp.ts) and the benchmark's SIPp-to-SIPp ceiling
 * (bench/sipp-ceiling.ts): free loopback ports, whether SIPp is listening yet, and its statistics file.
 */
import { createSocket } from "node:dgram";

/** A UDP port free on `address` right now (SIPp must be told its port; it cannot report an ephemeral one). */
export function freeUdpPort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createSocket("udp4");
    socket.once("error", reject);
    socket.bind(0, address, () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

/** True once something (SIPp) has bound `address:port`. */
export function portTaken(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket("udp4");
    socket.once("error", () => resolve(true));
    socket.bind(port, address, () => socket.close(() => resolve(false)));
  });
}

/**
 * The last line of a SIPp statistics file (`-trace_stat`, `;`-separated with a header line) as a field reader,
 * or null when SIPp wrote no sample. Its counters (`SuccessfulCall(C)`, ...) are cumulative.
 */
export function lastStatistics(csv: string): ((name: string) => string) | null {
  const lines = csv.trim().split("\n");
  if (lines.length < 2) return null;
  const header = (lines[0] as string).split(";");
  const last = (lines.at(-1) as string).split(";");
  return (name) => last[header.indexOf(name)] ?? "";
}
