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
import type { IncomingMessage, ServerResponse } from "node:http";
import { whatsappSignature } from "../channels/whatsapp/index.js";
import {
  listen,
  postReport,
  readBody,
  replyJson,
  type SandboxMessage,
  VirtualProvider,
  type VirtualProviderOptions,
} from "./virtual-provider.js";

export type SandboxWhatsAppMessage = SandboxMessage<"whatsapp">;

export interface VirtualWhatsAppOptions extends VirtualProviderOptions {
  accessToken?: string;
  appSecret?: string;
  /** The business name shown as the sender. Default "flashverify sandbox". */
  businessName?: string;
  /** Where status webhooks go; set later with `setWebhookUrl` when the receiver starts after this. */
  webhookUrl?: string;
  /** Hands status payloads to a receiver in this process instead (the embedded sandbox). */
  onStatus?: (payload: Record<string, unknown>) => void;
}

export class VirtualWhatsApp extends VirtualProvider<"whatsapp"> {
  readonly accessToken: string;
  readonly appSecret: string;
  private webhookUrl: string | undefined;
  private nextId = 1;

  static async create(options: VirtualWhatsAppOptions = {}): Promise<VirtualWhatsApp> {
    return new VirtualWhatsApp(await listen(options), options);
  }

  private constructor(
    server: Awaited<ReturnType<typeof listen>>,
    private readonly options: VirtualWhatsAppOptions,
  ) {
    super(server, options);
    this.accessToken = options.accessToken ?? "sandbox-token";
    this.appSecret = options.appSecret ?? "sandbox-app-secret";
    this.webhookUrl = options.webhookUrl;
  }

  setWebhookUrl(url: string): void {
    this.webhookUrl = url;
  }

  protected async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const error = (status: number, code: number, message: string) =>
      replyJson(response, status, { error: { message, type: "OAuthException", code, fbtrace_id: "sandbox" } });
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
    replyJson(response, 200, {
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
        receivedAt: this.now(),
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
    await postReport(this.webhookUrl as string, payload, {
      "x-hub-signature-256": whatsappSignature(payload, this.appSecret),
    });
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
