/**
 * SMS over an HTTP gateway: one request per message, built from a template, and delivery reports posted back to
 * our webhook. Any JSON or form-encoded provider fits by configuration; `twilio.ts` is the worked example.
 *
 * Template values are strings in which `{{to}}` (E.164), `{{to_digits}}` (without "+"), `{{from}}`, `{{text}}`,
 * `{{code}}` and `{{attempt_id}}` are replaced; nothing else is interpreted.
 */
import { postToProvider, ReceiptTracker, valueAt } from "../http-provider.js";
import type { MessageOutcome, MessageSender, OtpMessage } from "../message-channel.js";

export interface HttpSmsOptions {
  url: string;
  /** e.g. { Authorization: "Bearer ..." } */
  headers?: Record<string, string>;
  /** How the body is sent. Default "json". */
  encoding?: "json" | "form";
  /** The request body; string values are templates. */
  body: Record<string, unknown>;
  /** The sender id the template's {{from}} stands for. */
  from: string;
  /** Where the provider's message id is in its JSON answer, e.g. "sid" or "messages.0.id". */
  responseIdPath: string;
  /** Reading the provider's delivery reports; without it messages end `no_receipt` once accepted. */
  receipt?: {
    idPath: string;
    statusPath: string;
    delivered: string[];
    failed: string[];
    /** where an error code is, for the attempt record */
    errorPath?: string;
  };
  /** Default 10 s. */
  timeoutMs?: number;
  /** Wait this long for a report. Default 10 minutes. */
  receiptTimeoutMs?: number;
}

export function createHttpSmsSender(options: HttpSmsOptions): MessageSender {
  const tracker = new ReceiptTracker(options.receiptTimeoutMs ?? 600_000);
  const encoding = options.encoding ?? "json";
  const contentType = encoding === "json" ? "application/json" : "application/x-www-form-urlencoded";

  return {
    send(message, progress) {
      const end = (outcome: Omit<MessageOutcome, "at">) => progress.ended({ at: Date.now(), ...outcome });
      const body = fillTemplate(options.body, message, options.from);
      void postToProvider({
        url: options.url,
        headers: { "content-type": contentType, accept: "application/json", ...options.headers },
        body: encoding === "json" ? JSON.stringify(body) : new URLSearchParams(flatten(body)).toString(),
        timeoutMs: options.timeoutMs ?? 10_000,
      }).then((answer) => {
        if (answer.kind === "failed") return end(answer.outcome);
        const id = valueAt(answer.json, options.responseIdPath);
        if (typeof id !== "string" && typeof id !== "number") {
          return end({ delivered: false, reason: "submit_unknown", detail: `no id at ${options.responseIdPath}` });
        }
        progress.accepted(Date.now(), [String(id)]);
        if (!options.receipt) return end({ delivered: false, reason: "no_receipt", detail: "no receipts configured" });
        tracker.track(String(id), end);
      });
    },
    handleReceipt(payload) {
      const receipt = options.receipt;
      if (!receipt) return false;
      const read = (path: string) => {
        const value = valueAt(payload, path);
        // A JSON gateway may number its messages and states: the send took a numeric id too.
        return typeof value === "string" || typeof value === "number" ? String(value) : undefined;
      };
      const id = read(receipt.idPath);
      const status = read(receipt.statusPath);
      if (id === undefined || status === undefined) return false;
      const error = receipt.errorPath ? valueAt(payload, receipt.errorPath) : undefined;
      const detail = error === undefined || error === null || error === "" ? status : `${status} (${String(error)})`;
      if (receipt.delivered.includes(status)) tracker.settle(id, { delivered: true, reason: "delivered", detail });
      else if (receipt.failed.includes(status))
        tracker.settle(id, { delivered: false, reason: "undeliverable", detail });
      return true;
    },
    async close() {
      tracker.clear();
    },
  };
}

function fillTemplate(template: unknown, message: OtpMessage, from: string): unknown {
  if (typeof template === "string") {
    return template.replace(/\{\{(to|to_digits|from|text|code|attempt_id)\}\}/g, (_, name: string) => {
      switch (name) {
        case "to":
          return message.to;
        case "to_digits":
          return message.to.replace(/^\+/, "");
        case "from":
          return from;
        case "text":
          return message.text;
        case "code":
          return message.code;
        default:
          return message.attemptId;
      }
    });
  }
  if (Array.isArray(template)) return template.map((value) => fillTemplate(value, message, from));
  if (template && typeof template === "object") {
    return Object.fromEntries(Object.entries(template).map(([k, v]) => [k, fillTemplate(v, message, from)]));
  }
  return template;
}

/** Form encoding takes flat string fields only. */
function flatten(body: unknown): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) flat[key] = String(value);
  return flat;
}
