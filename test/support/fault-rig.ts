/**
 * The peers of the fault suite, each a process of the suite's own so that restarting it disturbs nobody else: a
 * PostgreSQL cluster made by `initdb` in a temporary folder (Debian's binaries; as the `postgres` user when the
 * suite runs as root, which PostgreSQL refuses), and HAProxy with the configuration docs/deploy.md gives, its
 * addresses replaced by the suite's. Every process is killed when the suite's process exits, whatever happens.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { commandExists } from "./peers.js";

const children = new Set<ChildProcess>();
const killAll = () => {
  for (const child of children) child.kill("SIGKILL");
};
process.once("exit", killAll);
// A test runner ends its workers with a signal, which skips "exit".
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(128 + (signal === "SIGTERM" ? 15 : 2));
  });
}

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** Debian keeps initdb and postgres out of PATH, in /usr/lib/postgresql/<version>/bin. */
function pgBin(name: string): string {
  if (commandExists(name)) return name;
  const versions = existsSync("/usr/lib/postgresql")
    ? readdirSync("/usr/lib/postgresql").sort((a, b) => Number(b) - Number(a))
    : [];
  for (const version of versions) {
    const path = `/usr/lib/postgresql/${version}/bin/${name}`;
    if (existsSync(path)) return path;
  }
  return name;
}

export function privatePostgresAvailable(): boolean {
  return ["initdb", "postgres", "pg_isready"].every((name) => existsSync(pgBin(name)) || commandExists(name));
}

/** Who runs PostgreSQL: this process, or the `postgres` user when this process is root. */
function owner(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(spawnSync("id", ["-u", "postgres"], { encoding: "utf8" }).stdout.trim());
  const gid = Number(spawnSync("id", ["-g", "postgres"], { encoding: "utf8" }).stdout.trim());
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error("running as root needs a postgres user");
  return { uid, gid };
}

export interface PrivatePostgres {
  url: string;
  /** stops it (fast shutdown: sessions are ended, as a restart for maintenance does) and starts it again */
  restart(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startPrivatePostgres(address: string, port: number): Promise<PrivatePostgres> {
  const user = owner();
  const dir = mkdtempSync(join(tmpdir(), "fv-faults-pg-"));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, "data");
  const init = spawnSync(pgBin("initdb"), ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"], {
    encoding: "utf8",
    ...(user ?? {}),
  });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const url = `postgres://postgres@${address}:${port}/postgres`;
  if (spawnSync(pgBin("pg_isready"), ["-q", "-h", address, "-p", String(port)]).status === 0) {
    throw new Error(`a PostgreSQL already listens on ${address}:${port}: the suite needs that port for its own`);
  }
  let child: ChildProcess | undefined;
  const start = async () => {
    // As the machine this suite reproduces: autovacuum off, so the planner's statistics lag behind the tables.
    child = track(
      spawn(
        pgBin("postgres"),
        [
          ["-D", data],
          ["-p", String(port)],
          ["-k", dir],
          ["-c", `listen_addresses=${address}`],
          ["-c", "fsync=off"],
          ["-c", "autovacuum=off"],
          ["-c", "max_connections=100"],
        ].flat(),
        { stdio: "ignore", ...(user ?? {}) },
      ),
    );
    for (let i = 0; i < 400; i++) {
      if (child.exitCode !== null) throw new Error(`the suite's PostgreSQL exited with ${child.exitCode}`);
      if (spawnSync(pgBin("pg_isready"), ["-q", "-h", address, "-p", String(port)]).status === 0) return;
      await sleep(50);
    }
    throw new Error("the suite's PostgreSQL did not start");
  };
  const halt = async () => {
    const running = child;
    if (!running || running.exitCode !== null) return;
    const exited = once(running, "exit");
    running.kill("SIGINT");
    await Promise.race([exited, sleep(10_000).then(() => running.kill("SIGKILL"))]);
  };
  await start();
  return {
    url,
    async restart(downMs) {
      await halt();
      await sleep(downMs);
      await start();
    },
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function haproxyAvailable(): boolean {
  return commandExists("haproxy");
}

/**
 * HAProxy from docs/deploy.md's configuration, listening on `bind` in front of `servers` (address:port). Only the
 * addresses change: the health checks, timeouts and retries are the ones the document gives.
 */
export async function startHaproxy(bind: string, servers: string[]): Promise<{ stop(): Promise<void> }> {
  const doc = readFileSync(new URL("../../docs/deploy.md", import.meta.url), "utf8");
  const block = /## HAProxy[\s\S]*?```haproxy\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!block) throw new Error("docs/deploy.md has no HAProxy configuration");
  let config = block.replace(/^(\s*)bind .*$/m, `$1bind ${bind}`);
  const serverLines = servers.map((s, i) => `    server node${i} ${s} check`).join("\n");
  config = config.replace(/(^\s*server .*\n)+/m, `${serverLines}\n`);
  const dir = mkdtempSync(join(tmpdir(), "fv-faults-haproxy-"));
  const file = join(dir, "haproxy.cfg");
  writeFileSync(file, config);
  const check = spawnSync("haproxy", ["-c", "-q", "-f", file], { encoding: "utf8" });
  if (check.status !== 0) throw new Error(`docs/deploy.md's HAProxy configuration is refused: ${check.stderr}`);
  const child = track(spawn("haproxy", ["-db", "-f", file], { stdio: "ignore" }));
  await sleep(300);
  if (child.exitCode !== null) throw new Error("haproxy exited at once");
  return {
    async stop() {
      if (child.exitCode === null) {
        const exited = once(child, "exit");
        child.kill("SIGKILL");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A redis-server of the suite's own, keeping nothing on disk. */
export async function startRedisServer(address: string, port: number): Promise<{ url: string; stop(): Promise<void> }> {
  const child = track(
    spawn("redis-server", ["--bind", address, "--port", String(port), "--save", "", "--appendonly", "no"], {
      stdio: "ignore",
    }),
  );
  const url = `redis://${address}:${port}`;
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null)
      throw new Error(`redis-server exited with ${child.exitCode} (is ${address}:${port} taken?)`);
    if (spawnSync("redis-cli", ["-u", url, "ping"], { encoding: "utf8" }).stdout?.trim() === "PONG") break;
    await sleep(50);
  }
  return {
    url,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGKILL");
      await exited;
    },
  };
}
