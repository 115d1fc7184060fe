/**
 * A webhook receiver for tests: a real HTTP server on loopback that records every request, verifies its
 * Standard Webhooks signature with the function the README shows receivers, and answers what the test queues
 * (200 by default).
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { verifyWebhook } from "../../src/events/signature.js";

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  json: { id: string; type: string; timestamp: string; data: Record<string, unknown> };
  /** null when no secret was set to check with */
  verified: boolean | null;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** answer this late (ms) */
  delayMs?: number;
}

export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  /** answers to give, in order; when empty, `fallback` */
  readonly answers: Answer[] = [];
  fallback: Answer = { status: 200 };
  /** when set, decides every answer instead of `answers` and `fallback` */
  answerFor: ((webhookId: string) => Answer) | undefined;
  secrets: string[] = [];
  /** the receiver's idea of now, in seconds (a test on a fake clock sets it) */
  nowSeconds: () => number = () => Math.floor(Date.now() / 1000);
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(host = "127.0.0.60"): Promise<WebhookReceiver> {
    let receiver: WebhookReceiver | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const r = receiver as WebhookReceiver;
        const verified =
          r.secrets.length === 0
            ? null
            : r.secrets.some((s) => verifyWebhook(s, req.headers, body, { nowSeconds: r.nowSeconds() }).ok);
        r.received.push({ headers: req.headers, body, json: JSON.parse(body), verified });
        const answer = r.answerFor?.(String(req.headers["webhook-id"])) ?? r.answers.shift() ?? r.fallback;
        const reply = () => res.writeHead(answer.status, answer.headers ?? {}).end(answer.body ?? "");
        if (answer.delayMs) setTimeout(reply, answer.delayMs);
        else reply();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    const { port } = server.address() as AddressInfo;
    receiver = new WebhookReceiver(server, `http://${host}:${port}/hooks`);
    return receiver;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
