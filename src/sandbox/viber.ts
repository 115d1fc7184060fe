/**
 * The virtual carrier's Viber: the part of the Viber Business Messages REST shape the channel uses (POST
 * /send_message with X-Viber-Auth-Token), on loopback. It checks the token and the message's shape, puts the text on
 * the virtual handset, and posts the `delivered` (or `failed`) callback signed with X-Viber-Content-Signature.
 *
 * Test numbers, by the destination's last four digits (as the sandbox's WhatsApp):
 * - `0499`, and `0404` (the handsets' number that does not exist): refused at once, `status` 6 (not a Viber user)
 * - `0498`: accepted, then a `failed` callback
 * - anything else: accepted, shown on the handset, then `delivered`
 *
 * Message tokens are written as Viber writes them, bare 64-bit JSON numbers beyond 2^53 (`"message_token":
 * 5000000000000000001`), in the answer and the callbacks, so the sandbox runs the channel's exact-integer reading:
 * consecutive tokens read as doubles would be one number.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { parseProviderJson } from "../channels/http-provider.js";
import { viberSignature } from "../channels/viber/index.js";
import {
  listen,
  postReport,
  readBody,
  replyJson,
  type SandboxMessage,
  VirtualProvider,
  type VirtualProviderOptions,
} from "./virtual-provider.js";

export type SandboxViberMessage = SandboxMessage<"viber">;

export interface VirtualViberOptions extends VirtualProviderOptions {
  authToken?: string;
  /** Where callbacks go, signed; or `onStatus` hands them to a receiver in this process (the embedded sandbox). */
  webhookUrl?: string;
  onStatus?: (payload: Record<string, unknown>) => void;
}

export class VirtualViber extends VirtualProvider<"viber"> {
  readonly authToken: string;
  private nextToken = 5_000_000_000_000_000_001n;

  static async create(options: VirtualViberOptions = {}): Promise<VirtualViber> {
    return new VirtualViber(await listen(options), options);
  }

  private constructor(
    server: Awaited<ReturnType<typeof listen>>,
    private readonly options: VirtualViberOptions,
  ) {
    super(server, options);
    this.authToken = options.authToken ?? "sandbox-viber-token";
  }

  protected async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const status = (code: number, message: string) =>
      replyJson(response, 200, { status: code, status_message: message });
    if (request.method !== "POST" || request.url !== "/send_message") {
      return replyJson(response, 404, { status: 1, status_message: "invalidUrl" });
    }
    if (request.headers["x-viber-auth-token"] !== this.authToken) return status(2, "invalidAuthToken");
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(await readBody(request));
    } catch {
      return status(3, "badData");
    }
    const sender = (body.sender as { name?: unknown } | undefined)?.name;
    const to = typeof body.receiver === "string" ? body.receiver : "";
    const ttl = body.ttl;
    if (
      body.type !== "text" ||
      typeof body.text !== "string" ||
      body.text.length === 0 ||
      body.text.length > 1000 ||
      typeof sender !== "string" ||
      sender.length === 0 ||
      sender.length > 28 ||
      !/^\+\d{8,15}$/.test(to) ||
      typeof ttl !== "number" ||
      ttl < 30 ||
      ttl > 1_209_600
    ) {
      return status(3, "badData");
    }
    if (to.endsWith("0499") || to.endsWith("0404")) return status(6, "receiverNotRegistered");
    const token = this.nextToken++;
    response
      .writeHead(200, { "content-type": "application/json" })
      .end(withToken(token, { status: 0, status_message: "ok" }));
    const failed = to.endsWith("0498");
    if (!failed) this.store({ channel: "viber", from: sender, to, text: body.text, receivedAt: this.now() });
    this.later(() =>
      this.postCallback(
        token,
        failed ? { event: "failed", desc: "Message undeliverable", user_id: to } : { event: "delivered", user_id: to },
      ),
    );
  }

  private async postCallback(token: bigint, event: Record<string, unknown>): Promise<void> {
    const raw = withToken(token, { ...event, timestamp: this.now() });
    // In process the callback is handed over as the receipts route reads the JSON Viber posts.
    if (this.options.onStatus) return this.options.onStatus(parseProviderJson(raw) as Record<string, unknown>);
    if (!this.options.webhookUrl) return;
    await postReport(this.options.webhookUrl, raw, {
      "x-viber-content-signature": viberSignature(raw, this.authToken),
    });
  }
}

/** JSON text of `fields` led by `message_token` as a bare integer, which JSON.stringify cannot write for a bigint. */
function withToken(token: bigint, fields: Record<string, unknown>): string {
  return `{"message_token":${token},${JSON.stringify(fields).slice(1)}`;
}
