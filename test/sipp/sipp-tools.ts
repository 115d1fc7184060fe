/**
 * Small SIPp helpers shared by the interop tests (test/sipp/sipp.ts) and the benchmark's SIPp-to-SIPp ceiling
 * (bench/sipp-ceiling.ts): free loopback ports, whether SIPp is listening yet, and its statistics file.
 */
import { createSocket } from "node:dgram";
import { readFile } from "node:fs/promises";
import { createServer } from "node:net";

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

/**
 * True once something (SIPp) has bound UDP `address:port`. Read from the kernel's socket table rather than by
 * trying to bind the port ourselves: a probe that binds holds the port for a moment, and a SIPp starting in that
 * moment fails to bind and exits.
 */
export function portTaken(address: string, port: number): Promise<boolean> {
  return socketListed("/proc/net/udp", address, port, null);
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

/** A TCP port free on `address` right now. */
export function freeTcpPort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, address, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** True once something listens on TCP `address:port` (from the kernel's table, so the listener sees no connection). */
export function tcpPortTaken(address: string, port: number): Promise<boolean> {
  return socketListed("/proc/net/tcp", address, port, TCP_LISTEN);
}

/** The `st` column of /proc/net/tcp for a listening socket. */
const TCP_LISTEN = "0A";

/** Whether /proc/net/{udp,tcp} lists a socket bound to `address:port` (or the wildcard), in `state` if given. */
async function socketListed(table: string, address: string, port: number, state: string | null): Promise<boolean> {
  const wanted = new Set([`${ipv4Hex(address)}:${portHex(port)}`, `00000000:${portHex(port)}`]);
  const lines = (await readFile(table, "utf8")).split("\n").slice(1);
  return lines.some((line) => {
    const [, local, , st] = line.trim().split(/\s+/);
    return local !== undefined && wanted.has(local) && (state === null || st === state);
  });
}

/** The kernel prints an IPv4 address as its 32-bit value in host (little-endian) order: 127.0.0.3 -> 0300007F. */
function ipv4Hex(address: string): string {
  return address
    .split(".")
    .reverse()
    .map((octet) => Number(octet).toString(16).padStart(2, "0").toUpperCase())
    .join("");
}

function portHex(port: number): string {
  return port.toString(16).padStart(4, "0").toUpperCase();
}
