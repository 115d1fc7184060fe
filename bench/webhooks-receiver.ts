/**
 * bench:webhooks's receiver, a process of its own (forked by bench/webhooks.ts, which hands it the listening
 * socket, so several receivers can share one endpoint URL): it checks every webhook's Standard Webhooks signature
 * as a real receiver must, answers 200 (400 to a bad signature, which the bench then reports as a failure) and
 * records when each `webhook-id` first arrived. Its CPU is reported apart from the sender's, so the figures say
 * which side costs what.
 */
import { createServer, type Server } from "node:http";
import type { Socket } from "node:net";
import { verifyWebhook } from "../src/events/signature.js";

/** The coordinator's messages. */
export type ReceiverCommand =
  | { type: "listen"; secret: string }
  | { type: "reset" }
  | { type: "report" }
  | { type: "exit" };

/** What a receiver says back. */
export type ReceiverMessage =
  | { type: "listening" }
  | { type: "progress"; arrived: number; bad: number }
  | { type: "report"; ids: string[]; times: number[]; bad: number; duplicates: number; cpuMs: number };

if (!process.send) throw new Error("webhooks-receiver runs as a child of bench/webhooks.ts (fork with IPC)");
const send = (message: ReceiverMessage) => process.send?.(message);
// The coordinator gone (even SIGKILLed): nothing more to receive for.
process.on("disconnect", () => process.exit(0));

let secret = "";
let arrivals = new Map<string, number>();
let bad = 0;
let duplicates = 0;
let cpu = process.cpuUsage();
let reported = -1;

const server: Server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const body = chunks.length === 1 ? (chunks[0] as Buffer).toString("utf8") : Buffer.concat(chunks).toString("utf8");
    const check = verifyWebhook(secret, req.headers, body);
    if (!check.ok) {
      bad += 1;
      res.writeHead(400).end(check.reason);
      return;
    }
    const id = req.headers["webhook-id"] as string;
    if (arrivals.has(id)) duplicates += 1;
    else arrivals.set(id, Date.now());
    res.writeHead(200).end();
  });
});

// Progress for the coordinator's "all arrived?" check, only when it moved (an idle receiver sends nothing).
setInterval(() => {
  const count = arrivals.size + bad;
  if (count === reported) return;
  reported = count;
  send({ type: "progress", arrived: arrivals.size, bad });
}, 50).unref();

process.on("message", (message: ReceiverCommand, handle?: Socket | Server) => {
  switch (message.type) {
    case "listen":
      secret = message.secret;
      server.listen(handle, () => send({ type: "listening" }));
      break;
    case "reset":
      arrivals = new Map();
      bad = 0;
      duplicates = 0;
      reported = -1;
      cpu = process.cpuUsage();
      break;
    case "report": {
      const used = process.cpuUsage(cpu);
      send({
        type: "report",
        ids: [...arrivals.keys()],
        times: [...arrivals.values()],
        bad,
        duplicates,
        cpuMs: (used.user + used.system) / 1000,
      });
      break;
    }
    case "exit":
      server.close();
      process.exit(0);
  }
});
