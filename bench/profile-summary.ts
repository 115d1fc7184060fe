/**
 * Reads a V8 .cpuprofile (from `--cpu-prof`) and says where the time went, in text a report can quote: busy time
 * by area (our code, each npm package, node internals, GC), the hottest functions by self time, and our own
 * functions by inclusive time. Idle time is left out of every percentage, so the figures are shares of the work.
 * Also runnable alone: `node dist/bench/profile-summary.js <file-or-dir> [top]`.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Summaries of the profile (or of every .cpuprofile in a directory), as printable lines. */
export function summarizeProfile(path: string, top = 20): string[] {
  const files = statSync(path).isDirectory()
    ? readdirSync(path)
        .filter((f) => f.endsWith(".cpuprofile"))
        .map((f) => join(path, f))
    : [path];
  if (files.length === 0) throw new Error(`no .cpuprofile in ${path}`);
  return files.flatMap((file) => summarizeOne(file, JSON.parse(readFileSync(file, "utf8")) as CpuProfile, top));
}

function summarizeOne(file: string, profile: CpuProfile, top: number): string[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const self = new Map<string, number>();
  const area = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!);
    const dt = profile.timeDeltas[i] ?? 0;
    if (!node) continue;
    if (node.callFrame.functionName === "(idle)") {
      idle += dt;
      continue;
    }
    busy += dt;
    add(self, frameKey(node.callFrame), dt);
    add(area, areaOf(node.callFrame), dt);
    // Inclusive time of our own functions: each distinct frame on the sampled stack counts once.
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      if (areaOf(frame) !== "flashverify") continue;
      const key = frameKey(frame);
      if (!seen.has(key)) {
        seen.add(key);
        add(inclusive, key, dt);
      }
    }
  }

  const pct = (us: number) => `${((us / busy) * 100).toFixed(1).padStart(5)}%`;
  const list = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => `  ${pct(us)}  ${k}`);
  return [
    `\n## server CPU profile: ${file}`,
    `busy ${(busy / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s (percentages are of busy time)`,
    "\nself time by area:",
    ...list(area, 15),
    `\ntop ${top} functions by self time:`,
    ...list(self, top),
    `\ntop ${top} flashverify functions by inclusive time:`,
    ...list(inclusive, top),
  ];
}

function add(m: Map<string, number>, key: string, value: number): void {
  m.set(key, (m.get(key) ?? 0) + value);
}

function frameKey(f: CallFrame): string {
  const name = f.functionName || "(anonymous)";
  if (!f.url) return name;
  return `${name}  ${shortUrl(f.url)}:${f.lineNumber + 1}`;
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf("/node_modules/");
  if (nm >= 0) return url.slice(nm + "/node_modules/".length);
  const dist = url.lastIndexOf("/dist/");
  if (dist >= 0) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, "");
}

/** Which part of the program a frame belongs to: our code, an npm package, node itself, or a V8 pseudo-frame. */
function areaOf(f: CallFrame): string {
  if (!f.url) return f.functionName.startsWith("(") ? f.functionName : "(native)";
  const nm = f.url.lastIndexOf("/node_modules/");
  if (nm >= 0) {
    const rest = f.url.slice(nm + "/node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? "?");
  }
  if (f.url.startsWith("node:")) return `node:${f.url.slice(5).split("/")[0]}`;
  if (f.url.includes("/dist/")) return "flashverify";
  return f.url;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [path, top] = process.argv.slice(2);
  if (!path) {
    console.error("usage: node dist/bench/profile-summary.js <file.cpuprofile | dir> [top]");
    process.exit(2);
  }
  for (const line of summarizeProfile(path, Number(top ?? 20))) console.log(line);
}
