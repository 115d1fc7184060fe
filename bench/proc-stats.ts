/**
 * CPU and memory of another process from /proc (Linux only), so the harness measures the server and the load
 * process from outside, without instrumenting either. utime+stime in /proc/<pid>/stat cover all of a process's
 * threads (libuv pool, V8 GC, SQLite in the main thread), which is what "CPU used by the server" should mean.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** Clock ticks per second for /proc times: 100 on practically every Linux; asked of getconf once to be sure. */
const CLK_TCK = (() => {
  try {
    const value = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    return Number.isFinite(value) && value > 0 ? value : 100;
  } catch {
    return 100;
  }
})();

export interface CpuSample {
  /** user + system CPU seconds used so far */
  cpuSeconds: number;
  /** performance.now() of the sample, in seconds */
  at: number;
}

/**
 * user + system CPU seconds in a /proc `stat` file: `/proc/<pid>/stat` for a whole process,
 * `/proc/<pid>/task/<tid>/stat` for one of its threads.
 */
export function statCpuSeconds(path: string): number {
  const fields = statFields(path);
  // utime (field 14) and stime (field 15).
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** The fields of a /proc `stat` file after the command name: field 3 (state) is index 0, field n is index n - 3. */
function statFields(path: string): string[] {
  const stat = readFileSync(path, "utf8");
  // The command name (field 2) may contain spaces and parentheses: fields are counted after its closing ")".
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** Reads a process's CPU time so far. */
export function sampleCpu(pid: number): CpuSample {
  return { cpuSeconds: statCpuSeconds(`/proc/${pid}/stat`), at: performance.now() / 1000 };
}

/** CPU seconds used so far by each thread of a process, by thread id (the main thread's id is the pid). */
export function sampleThreads(pid: number): Map<number, number> {
  const threads = new Map<number, number>();
  for (const tid of safeReaddir(`/proc/${pid}/task`)) {
    try {
      threads.set(Number(tid), statCpuSeconds(`/proc/${pid}/task/${tid}/stat`));
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return threads;
}

/** The nice values of a process's threads that differ from its main thread's, each with how many threads have it. */
export function raisedThreads(pid: number): string {
  // nice (field 19).
  const nice = (path: string) => Number(statFields(path)[16]);
  const base = nice(`/proc/${pid}/stat`);
  const counts = new Map<number, number>();
  for (const tid of safeReaddir(`/proc/${pid}/task`)) {
    try {
      const n = nice(`/proc/${pid}/task/${tid}/stat`);
      if (n !== base) counts.set(n, (counts.get(n) ?? 0) + 1);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  const others = [...counts].map(([n, c]) => `${c} thread${c === 1 ? "" : "s"} at nice ${n}`).join(", ");
  return `process at nice ${base}${others ? `; ${others}` : ", every thread alike"}`;
}

/**
 * The CPU milliseconds per operation of a process's main thread and of its other threads, busiest first (each
 * worker thread and V8's helper threads are separate entries; threads under 1% of the total are left out).
 */
export function threadMsPer(from: Map<number, number>, to: Map<number, number>, pid: number, ops: number) {
  const deltas = [...to].map(([tid, cpu]) => ({ tid, ms: ((cpu - (from.get(tid) ?? 0)) * 1000) / Math.max(ops, 1) }));
  const total = deltas.reduce((sum, d) => sum + d.ms, 0);
  const round = (ms: number) => Math.round(ms * 1000) / 1000;
  return {
    main: round(deltas.find((d) => d.tid === pid)?.ms ?? 0),
    others: deltas
      .filter((d) => d.tid !== pid && d.ms > total / 100)
      .sort((a, b) => b.ms - a.ms)
      .map((d) => round(d.ms)),
  };
}

/** CPU use between two samples in percent of one core (200% = both cores of this machine). */
export function cpuPercent(from: CpuSample, to: CpuSample): number {
  const wall = to.at - from.at;
  return wall > 0 ? Math.round(((to.cpuSeconds - from.cpuSeconds) / wall) * 1000) / 10 : 0;
}

export interface Memory {
  /** VmHWM: peak resident set since the process started */
  peakRssMiB: number;
  /** VmRSS: resident set now */
  rssMiB: number;
}

/** Reads a process's current and peak resident memory. */
export function sampleMemory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  const mib = (k: number) => Math.round((k / 1024) * 10) / 10;
  return { peakRssMiB: mib(kib("VmHWM")), rssMiB: mib(kib("VmRSS")) };
}

/** CPU time the whole machine spent busy so far (all cores, everything but idle and iowait), in seconds. */
export function sampleMachineCpu(): CpuSample {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
  // cpu user nice system idle iowait irq softirq steal guest guest_nice; guest time is already inside user.
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return { cpuSeconds: (user + nice + system + irq + softirq + steal) / CLK_TCK, at: performance.now() / 1000 };
}

export interface UdpStats {
  /** datagrams the kernel dropped because the socket's receive buffer was full, since the socket opened */
  drops: number;
  /** bytes waiting in the receive buffer now: the process is behind reading its socket */
  rxQueueBytes: number;
}

/**
 * Receive-buffer drops and backlog of a process's UDP sockets (its SIP socket), from /proc/net/udp matched by
 * socket inode against /proc/<pid>/fd. A flash call whose 180 or 487 is dropped or read late lingers for seconds
 * in the server although the verification itself completed, so this shows a SIP side that falls behind.
 */
export function sampleUdp(pid: number): UdpStats {
  const inodes = new Set<string>();
  for (const fd of safeReaddir(`/proc/${pid}/fd`)) {
    const target = safeReadlink(`/proc/${pid}/fd/${fd}`);
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode) inodes.add(inode);
  }
  const stats: UdpStats = { drops: 0, rxQueueBytes: 0 };
  for (const table of [`/proc/${pid}/net/udp`, `/proc/${pid}/net/udp6`]) {
    let text: string;
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      // sl local rem st tx_queue:rx_queue tr:when retrnsmt uid timeout inode ref pointer drops
      const f = line.trim().split(/\s+/);
      if (f.length < 13 || !inodes.has(f[9] ?? "")) continue;
      stats.rxQueueBytes += Number.parseInt(f[4]?.split(":")[1] ?? "0", 16);
      stats.drops += Number(f[12]);
    }
  }
  return stats;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function safeReadlink(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return "";
  }
}
