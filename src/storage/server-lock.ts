/**
 * One server per SQLite database. The server assumes it is the only process placing calls for its database: at
 * start it settles every attempt left in flight as interrupted, which would wrongly end a second server's live
 * calls. A lock file beside the database, holding the owner's pid, refuses the second server; a lock whose process
 * is gone (a crash, SIGKILL) is taken over, so a restart after a crash is never refused.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** Takes the lock of the database behind `databaseUrl`; returns its release. In-memory databases need none. */
export function lockDatabaseForServer(databaseUrl: string): () => void {
  const file = databaseUrl.startsWith("sqlite:") ? databaseUrl.slice("sqlite:".length) : "";
  if (file === "" || file === ":memory:") return () => {};
  const lock = `${file}.server-lock`;
  // On a fresh machine the database's folder does not exist yet: the lock comes before the database.
  mkdirSync(dirname(lock), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: "wx" });
      return () => rmSync(lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number(readFileSync(lock, "utf8"));
      if (isAlive(owner)) {
        throw new Error(`another flashverify server (pid ${owner}) is serving ${file}; stop it, or remove ${lock}`);
      }
      rmSync(lock, { force: true });
    }
  }
  throw new Error(`could not take ${lock}: another server started at the same moment`);
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
