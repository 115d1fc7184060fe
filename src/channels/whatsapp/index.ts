/**
 * WhatsApp authentication templates over the WhatsApp Cloud API: one `template` message whose body parameter and
 * copy-code button both carry the code (Meta's authentication template shape), and delivery reports from the
 * `statuses` of the messages webhook. `baseUrl` is configurable so the sandbox (and tests) stand in for Meta.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { postToProvider, ReceiptTracker, valueAt } from "../http-provider.js";
import type { MessageOutcome, MessageSender } from "../message-channel.js";

export interface WhatsAppOptions {
  /** Default "https://graph.facebook.com". */
  baseUrl?: string;
  /** Default "v21.0". */
  apiVersion?: string;
  phoneNumberId: string;
  accessToken: string;
  /** An approved authentication template with a copy-code button. */
  templateName: string;
  /** Default "en_US". */
  languageCode?: string;
  timeoutMs?: number;
  receiptTimeoutMs?: number;
}

export function whatsappTemplateBody(
  options: WhatsAppOptions,
  to: string,
  code: string,
  template?: { templateName: string; languageCode: string },
) {
  return {
    messaging_product: "whatsapp",
    recipient_type: "individual",
    to: to.replace(/^\+/, ""),
    type: "template",
    template: {
      name: template?.templateName ?? options.templateName,
      language: { code: template?.languageCode ?? options.languageCode ?? "en_US" },
      components: [
        { type: "body", parameters: [{ type: "text", text: code }] },
        { type: "button", sub_type: "url", index: "0", parameters: [{ type: "text", text: code }] },
      ],
    },
  };
}

export function createWhatsAppSender(options: WhatsAppOptions): MessageSender {
  const tracker = new ReceiptTracker(options.receiptTimeoutMs ?? 600_000);
  const base = (options.baseUrl ?? "https://graph.facebook.com").replace(/\/$/, "");
  const url = `${base}/${options.apiVersion ?? "v21.0"}/${encodeURIComponent(options.phoneNumberId)}/messages`;

  return {
    send(message, progress) {
      const end = (outcome: Omit<MessageOutcome, "at">) => progress.ended({ at: Date.now(), ...outcome });
      void postToProvider({
        url,
        headers: { "content-type": "application/json", authorization: `Bearer ${options.accessToken}` },
        body: JSON.stringify(whatsappTemplateBody(options, message.to, message.code, message.whatsapp)),
        timeoutMs: options.timeoutMs ?? 10_000,
      }).then((answer) => {
        if (answer.kind === "failed") return end(answer.outcome);
        const id = valueAt(answer.json, "messages.0.id");
        if (typeof id !== "string") return end({ delivered: false, reason: "submit_unknown", detail: "no message id" });
        progress.accepted(Date.now(), [id]);
        tracker.track(id, end);
      });
    },
    handleReceipt(payload) {
      if (payload.object !== "whatsapp_business_account" || !Array.isArray(payload.entry)) return false;
      // Walked as untrusted JSON: a part of another shape is skipped, never a reason to fail the whole post.
      const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
      for (const entry of payload.entry) {
        for (const change of list(valueAt(entry, "changes"))) {
          for (const status of list(valueAt(change, "value.statuses"))) {
            if (status === null || typeof status !== "object") continue;
            const { id, status: state } = status as Record<string, unknown>;
            if (typeof id !== "string") continue;
            if (state === "delivered" || state === "read") {
              tracker.settle(id, { delivered: true, reason: "delivered", detail: state });
            } else if (state === "failed") {
              const error = valueAt(status, "errors.0");
              const detail = error ? `${valueAt(error, "code")}: ${valueAt(error, "title")}` : "failed";
              tracker.settle(id, { delivered: false, reason: "undeliverable", detail });
            }
          }
        }
      }
      return true;
    },
    async close() {
      tracker.clear();
    },
  };
}

/** Meta signs webhook bodies: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with the app secret>`. */
export function whatsappSignature(rawBody: string | Buffer, appSecret: string): string {
  return `sha256=${createHmac("sha256", appSecret).update(rawBody).digest("hex")}`;
}

export function verifyWhatsAppSignature(
  rawBody: string | Buffer,
  header: string | undefined,
  appSecret: string,
): boolean {
  if (!header) return false;
  const expected = Buffer.from(whatsappSignature(rawBody, appSecret));
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
