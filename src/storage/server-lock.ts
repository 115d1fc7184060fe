/**
 * One server per SQLite database. The server assumes it is the only process placing calls for its database: at
 * start it settles every attempt left in flight as interrupted, which would wrongly end a second server's live
 * calls. So it holds a lease in the database itself: one row naming a random holder id (not a pid: two containers
 * sharing a volume are both pid 1) and an expiry that the holder renews every third of its length. A second server
 * finds the lease live and is refused; a crashed server's lease lapses, so a restart waits out at most one lease
 * length and is never refused for a server that is gone.
 *
 * The row lives in a table of its own, created here rather than by the migrations: the lease is taken before the
 * migrations run, so a second server never migrates, recovers or places calls beside a live one. It is read and
 * written on a connection of its own, in an immediate transaction, so two servers starting at the same instant
 * cannot both take it.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { hostname } from "node:os";
import { dirname } from "node:path";
import SqliteDatabase from "better-sqlite3";

export interface ServerLeaseOptions {
  /** how long the lease lasts unrenewed; default 10 s */
  ttlMs?: number;
  /** how long to wait for a lease another holder has not renewed (a crashed server's); default ttlMs + 1 s */
  waitMs?: number;
  /** the lease was taken by another server while this one was stalled past its expiry (SIGSTOP, a long pause) */
  onLost?: (holder: string) => void;
  now?: () => number;
}

export interface ServerLease {
  /** this holder's id, as the row names it */
  readonly holder: string;
  release(): void;
}

const NO_LEASE: ServerLease = { holder: "", release: () => {} };

interface Row {
  holder: string;
  host: string;
  pid: number;
  expires_at: number;
}

/** Takes the lease of the database behind `databaseUrl`; in-memory databases and PostgreSQL need none. */
export async function leaseDatabaseForServer(
  databaseUrl: string,
  options: ServerLeaseOptions = {},
): Promise<ServerLease> {
  const file = databaseUrl.startsWith("sqlite:") ? databaseUrl.slice("sqlite:".length) : "";
  if (file === "" || file === ":memory:") return NO_LEASE;
  const ttlMs = options.ttlMs ?? 10_000;
  const waitMs = options.waitMs ?? ttlMs + 1000;
  const now = options.now ?? Date.now;
  // On a fresh machine the database's folder does not exist yet: the lease comes before the database.
  mkdirSync(dirname(file), { recursive: true });
  const db = new SqliteDatabase(file);
  db.pragma("busy_timeout = 5000");
  db.exec(
    "CREATE TABLE IF NOT EXISTS server_lease (id INTEGER PRIMARY KEY CHECK (id = 1), holder TEXT NOT NULL, " +
      "host TEXT NOT NULL, pid INTEGER NOT NULL, expires_at INTEGER NOT NULL)",
  );
  const holder = randomUUID();
  const read = db.prepare<[], Row>("SELECT holder, host, pid, expires_at FROM server_lease WHERE id = 1");
  const write = db.prepare(
    "INSERT INTO server_lease (id, holder, host, pid, expires_at) VALUES (1, ?, ?, ?, ?) " +
      "ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, host = excluded.host, pid = excluded.pid, " +
      "expires_at = excluded.expires_at",
  );
  const renew = db.prepare("UPDATE server_lease SET expires_at = ? WHERE id = 1 AND holder = ?");
  const remove = db.prepare("DELETE FROM server_lease WHERE id = 1 AND holder = ?");
  const attempt = db.transaction((): Row | null => {
    const current = read.get();
    if (current && current.expires_at > now()) return current;
    write.run(holder, hostname(), process.pid, now() + ttlMs);
    return null;
  });
  const take = () => attempt.immediate();

  const deadline = now() + waitMs;
  for (;;) {
    let other: Row | null;
    try {
      other = take();
    } catch (error) {
      db.close();
      throw error;
    }
    if (other === null) break;
    if (now() >= deadline) {
      db.close();
      throw new Error(
        `another flashverify server (${other.host}, pid ${other.pid}) holds ${file}'s lease for ` +
          `${Math.ceil((other.expires_at - now()) / 1000)} s more and renews it: stop it first (a crashed server's ` +
          "lease lapses by itself)",
      );
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(250, Math.max(10, deadline - now()))));
  }

  let held = true;
  const timer = setInterval(
    () => {
      if (!held) return;
      try {
        if (renew.run(now() + ttlMs, holder).changes === 0) {
          held = false;
          options.onLost?.(read.get()?.holder ?? "none");
        }
      } catch {
        // A busy or briefly unreadable database: the next renewal, a third of the lease later, tries again.
      }
    },
    Math.max(10, Math.floor(ttlMs / 3)),
  );
  timer.unref();
  return {
    holder,
    release() {
      clearInterval(timer);
      if (!db.open) return;
      if (held) remove.run(holder);
      held = false;
      db.close();
    },
  };
}
