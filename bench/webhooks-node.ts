/**
 * bench:webhooks's server node, a process of its own (forked by bench/webhooks.ts) as a `serve` node would be: the
 * store (SQLite file or PostgreSQL schema, its own connection pool) and one webhook worker, started, kicked and
 * stopped by the coordinator. It reports its CPU for the run, so the figures give each process's cost per event.
 */
import { systemClock } from "../src/core/ports.js";
import { WebhookWorker } from "../src/events/webhook-worker.js";
import { openPostgresStore } from "../src/storage/postgres.js";
import { openSqliteStore } from "../src/storage/sqlite.js";

/** The coordinator's messages. */
export type NodeCommand =
  | { type: "open"; store: "sqlite"; file: string; maxInFlight?: number }
  | { type: "open"; store: "postgres"; url: string; schema: string; maxInFlight?: number }
  | { type: "start" }
  | { type: "kick" }
  | { type: "stop" };

/** What a node says back. */
export type NodeMessage = { type: "opened" } | { type: "stopped"; cpuMs: number; errors: string[] };

if (!process.send) throw new Error("webhooks-node runs as a child of bench/webhooks.ts (fork with IPC)");
const send = (message: NodeMessage) => process.send?.(message);
process.on("disconnect", () => process.exit(0));

let worker: WebhookWorker | undefined;
let close: () => Promise<void> = async () => undefined;
let cpu = process.cpuUsage();
const errors: string[] = [];

process.on("message", (message: NodeCommand) => {
  void handle(message).catch((error: unknown) => {
    console.error("bench:webhooks node:", error);
    process.exit(1);
  });
});

async function handle(message: NodeCommand): Promise<void> {
  switch (message.type) {
    case "open": {
      const store =
        message.store === "sqlite"
          ? openSqliteStore(message.file)
          : openPostgresStore(message.url, { schema: message.schema, maxConnections: 8 });
      // Already migrated by the coordinator: this prepares the store's statements, as `serve` does at start.
      await store.migrate();
      close = () => store.close();
      worker = new WebhookWorker({
        store: store.webhooks,
        clock: systemClock,
        allowed: new Set(["loopback"]),
        pollMs: 100,
        ...(message.maxInFlight ? { maxInFlight: message.maxInFlight } : {}),
        onError: (error) => {
          if (errors.length < 10) errors.push(String(error));
        },
      });
      send({ type: "opened" });
      break;
    }
    case "start":
      cpu = process.cpuUsage();
      worker?.start();
      break;
    case "kick":
      worker?.kick();
      break;
    case "stop": {
      await worker?.stop();
      const used = process.cpuUsage(cpu);
      await close();
      send({ type: "stopped", cpuMs: (used.user + used.system) / 1000, errors: errors.splice(0) });
      break;
    }
  }
}
