/**
 * What the report says about the run itself, so a figure can be traced and repeated: the command as typed, the
 * commit (and whether src/ or bench/ had uncommitted changes), the machine and how busy it was, and what the server
 * logged (it runs at LOG_LEVEL=warn, so every line is worth a look).
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { relative } from "node:path";

/** The way the user ran it: `npm run bench -- ...` when npm started us. */
export function commandLine(): string {
  const args = process.argv.slice(2).map((a) => (/^[\w.,=/:+-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`));
  const viaNpm = process.env.npm_lifecycle_event === "bench";
  return viaNpm
    ? `npm run bench${args.length ? ` -- ${args.join(" ")}` : ""}`
    : `node dist/bench/run.js ${args.join(" ")}`.trim();
}

export function machineInfo(): Record<string, string> {
  const git = (args: string[]) => {
    try {
      return execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
      return "";
    }
  };
  const dirty = git(["status", "--porcelain", "--", "src", "bench"]) ? " (uncommitted changes in src/ or bench/)" : "";
  return {
    date: new Date().toISOString(),
    commit: `${git(["rev-parse", "--short", "HEAD"]) || "unknown"}${dirty}`,
    machine: `${cpus().length} x ${cpus()[0]?.model ?? "?"}, node ${process.version}`,
    "load average at start": loadavg()
      .map((x) => x.toFixed(2))
      .join(" "),
  };
}

/** The server's log lines grouped by level and message, most frequent first. */
export function summarizeServerLog(file: string, top = 5): string[] {
  let lines: string[];
  try {
    lines = readFileSync(file, "utf8").split("\n").filter(Boolean);
  } catch {
    return ["server log: none"];
  }
  const counts = new Map<string, number>();
  for (const line of lines) {
    const key = describeLogLine(line);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const head = `server log: ${relative(process.cwd(), file)} (${lines.length} lines at warn or above)`;
  const frequent = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  return [head, ...frequent.map(([k, n]) => `  ${String(n).padStart(7)} x ${k}`)];
}

/** pino lines are JSON with a numeric level and msg; anything else (a crash trace) is shown as it is. */
function describeLogLine(line: string): string {
  try {
    const entry = JSON.parse(line) as { level?: unknown; msg?: unknown; err?: { message?: unknown } };
    const level = { 40: "warn", 50: "error", 60: "fatal" }[Number(entry.level)] ?? String(entry.level);
    const err = typeof entry.err?.message === "string" ? `: ${entry.err.message}` : "";
    return `${level} ${String(entry.msg ?? "")}${err}`.slice(0, 200);
  } catch {
    return line.slice(0, 200);
  }
}
