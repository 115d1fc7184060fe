/**
 * What the virtual carrier's HTTP messaging providers (WhatsApp's Cloud API, Viber) share: a loopback HTTP server,
 * the messages each virtual phone received (newest first, bounded), delivery reports posted a little later, and a
 * bounded body reader. Each provider adds only its own request and report shapes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface SandboxMessage<C extends string> {
  channel: C;
  from: string;
  to: string;
  text: string;
  receivedAt: number;
}

export interface VirtualProviderOptions {
  /** Default "127.0.0.2". */
  address?: string;
  /** Default 0 (ephemeral). */
  port?: number;
  /** delay before each delivery report; default 50 ms */
  statusDelayMs?: number;
  /** messages kept per phone; default 20 */
  maxMessagesPerPhone?: number;
  now?: () => number;
}

const MAX_BODY = 64 * 1024;

export async function listen(options: VirtualProviderOptions): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.address ?? "127.0.0.2", () => resolve());
  });
  return server;
}

export abstract class VirtualProvider<C extends string> {
  readonly local: { address: string; port: number };
  private readonly phones = new Map<string, SandboxMessage<C>[]>();
  private readonly timers = new Set<NodeJS.Timeout>();

  protected constructor(
    private readonly server: Server,
    private readonly providerOptions: VirtualProviderOptions,
  ) {
    const { address, port } = server.address() as AddressInfo;
    this.local = { address, port };
    server.on("request", (request, response) => void this.handle(request, response));
  }

  get baseUrl(): string {
    return `http://${this.local.address}:${this.local.port}`;
  }

  /** Messages a phone received, newest first. */
  messages(phone: string): SandboxMessage<C>[] {
    return [...(this.phones.get(phone) ?? [])].reverse();
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  protected abstract handle(request: IncomingMessage, response: ServerResponse): Promise<void>;

  protected now(): number {
    return (this.providerOptions.now ?? Date.now)();
  }

  /** Runs a report after the configured delay; close() cancels the ones still waiting. */
  protected later(task: () => Promise<void>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void task();
    }, this.providerOptions.statusDelayMs ?? 50);
    this.timers.add(timer);
  }

  protected store(message: SandboxMessage<C>): void {
    const list = this.phones.get(message.to) ?? [];
    list.push(message);
    if (list.length > (this.providerOptions.maxMessagesPerPhone ?? 20)) list.shift();
    this.phones.set(message.to, list);
  }
}

export function replyJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

export async function readBody(request: IncomingMessage): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error("body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Posts a signed report to a webhook; a receiver that is down misses it, as with the real provider after its retries. */
export async function postReport(url: string, payload: string, headers: Record<string, string>): Promise<void> {
  try {
    await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: payload,
      signal: AbortSignal.timeout(5000),
    });
  } catch {
    // Nothing to do: the channel ends the attempt `no_receipt` when no report comes.
  }
}
