/**
 * The virtual carrier's WhatsApp: the part of the WhatsApp Cloud API the channel uses (POST
 * /{version}/{phone-number-id}/messages with an authentication template), on loopback. It checks the bearer token
 * and the template's shape as Meta would, puts the rendered message on the virtual handset, and posts the
 * `statuses` webhooks (sent, then delivered or failed) to `webhookUrl`, signed with the app secret.
 *
 * Test numbers, by the destination's last four digits:
 * - `0499`: refused at once, HTTP 400 with error 131030 (the number cannot receive it)
 * - `0498`: accepted, then a `failed` status with error 131026 (message undeliverable)
 * - anything else: accepted, shown on the handset, then `delivered`
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { whatsappSignature } from "../channels/whatsapp/index.js";

export interface SandboxWhatsAppMessage {
  channel: "whatsapp";
  from: string;
  to: string;
  text: string;
  receivedAt: number;
}

export interface VirtualWhatsAppOptions {
  /** Default "127.0.0.2". */
  address?: string;
  /** Default 0 (ephemeral). */
  port?: number;
  accessToken?: string;
  appSecret?: string;
  /** The business name shown as the sender. Default "flashverify sandbox". */
  businessName?: string;
  /** Where status webhooks go; set later with `setWebhookUrl` when the receiver starts after this. */
  webhookUrl?: string;
  /** Hands status payloads to a receiver in this process instead (the embedded sandbox). */
  onStatus?: (payload: Record<string, unknown>) => void;
  statusDelayMs?: number;
  maxMessagesPerPhone?: number;
  now?: () => number;
}

const MAX_BODY = 64 * 1024;

export class VirtualWhatsApp {
  readonly local: { address: string; port: number };
  readonly accessToken: string;
  readonly appSecret: string;
  private webhookUrl: string | undefined;
  private readonly phones = new Map<string, SandboxWhatsAppMessage[]>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private nextId = 1;

  static async create(options: VirtualWhatsAppOptions = {}): Promise<VirtualWhatsApp> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, options.address ?? "127.0.0.2", () => resolve());
    });
    return new VirtualWhatsApp(server, options);
  }

  private constructor(
    private readonly server: Server,
    private readonly options: VirtualWhatsAppOptions,
  ) {
    const { address, port } = server.address() as AddressInfo;
    this.local = { address, port };
    this.accessToken = options.accessToken ?? "sandbox-token";
    this.appSecret = options.appSecret ?? "sandbox-app-secret";
    this.webhookUrl = options.webhookUrl;
    server.on("request", (request, response) => void this.handle(request, response));
  }

  get baseUrl(): string {
    return `http://${this.local.address}:${this.local.port}`;
  }

  setWebhookUrl(url: string): void {
    this.webhookUrl = url;
  }

  /** Messages a phone received, newest first. */
  messages(phone: string): SandboxWhatsAppMessage[] {
    return [...(this.phones.get(phone) ?? [])].reverse();
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    const error = (status: number, code: number, message: string) =>
      reply(status, { error: { message, type: "OAuthException", code, fbtrace_id: "sandbox" } });
    if (request.method !== "POST" || !/^\/v\d+\.\d+\/[^/]+\/messages$/.test(request.url ?? "")) {
      return error(404, 100, "Unsupported post request");
    }
    if (request.headers.authorization !== `Bearer ${this.accessToken}`) {
      return error(401, 190, "Invalid OAuth access token");
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(await readBody(request));
    } catch {
      return error(400, 100, "Invalid JSON body");
    }
    const to = typeof body.to === "string" ? `+${body.to.replace(/^\+/, "")}` : "";
    const template = body.template as { name?: unknown; components?: unknown } | undefined;
    const code = bodyParameter(template);
    if (
      body.messaging_product !== "whatsapp" ||
      body.type !== "template" ||
      !template?.name ||
      !code ||
      to.length < 8
    ) {
      return error(400, 132000, "Number of parameters does not match the expected number of params");
    }
    if (to.endsWith("0499")) return error(400, 131030, "Recipient phone number not in allowed list");
    const id = `wamid.sandbox${(this.nextId++).toString().padStart(12, "0")}`;
    reply(200, {
      messaging_product: "whatsapp",
      contacts: [{ input: body.to, wa_id: to.slice(1) }],
      messages: [{ id }],
    });
    const failed = to.endsWith("0498");
    if (!failed) {
      this.store({
        channel: "whatsapp",
        from: this.options.businessName ?? "flashverify sandbox",
        to,
        text: `${code} is your verification code. For your security, do not share this code.`,
        receivedAt: (this.options.now ?? Date.now)(),
      });
    }
    this.later(() => this.postStatus(id, to, "sent"));
    this.later(() =>
      this.postStatus(
        id,
        to,
        failed ? "failed" : "delivered",
        failed ? [{ code: 131026, title: "Message undeliverable" }] : undefined,
      ),
    );
  }

  private later(task: () => Promise<void>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void task();
    }, this.options.statusDelayMs ?? 50);
    this.timers.add(timer);
  }

  private async postStatus(id: string, to: string, status: string, errors?: unknown[]): Promise<void> {
    if (!this.webhookUrl && !this.options.onStatus) return;
    const payload = JSON.stringify({
      object: "whatsapp_business_account",
      entry: [
        {
          id: "sandbox-waba",
          changes: [
            {
              field: "messages",
              value: {
                messaging_product: "whatsapp",
                statuses: [
                  {
                    id,
                    status,
                    timestamp: String(Math.floor(Date.now() / 1000)),
                    recipient_id: to.slice(1),
                    ...(errors ? { errors } : {}),
                  },
                ],
              },
            },
          ],
        },
      ],
    });
    if (this.options.onStatus) {
      this.options.onStatus(JSON.parse(payload));
      return;
    }
    try {
      await fetch(this.webhookUrl as string, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-hub-signature-256": whatsappSignature(payload, this.appSecret),
        },
        body: payload,
        signal: AbortSignal.timeout(5000),
      });
    } catch {
      // A receiver that is down misses the status, as with Meta after its retries.
    }
  }

  private store(message: SandboxWhatsAppMessage): void {
    const list = this.phones.get(message.to) ?? [];
    list.push(message);
    if (list.length > (this.options.maxMessagesPerPhone ?? 20)) list.shift();
    this.phones.set(message.to, list);
  }
}

function bodyParameter(template: { components?: unknown } | undefined): string | null {
  if (!template || !Array.isArray(template.components)) return null;
  for (const component of template.components as Array<{ type?: unknown; parameters?: Array<{ text?: unknown }> }>) {
    const text = component.type === "body" ? component.parameters?.[0]?.text : undefined;
    if (typeof text === "string" && text.length > 0 && text.length <= 15) return text;
  }
  return null;
}

async function readBody(request: IncomingMessage): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error("body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}
