/**
 * Viber OTP over the Viber Business Messages REST shape: `POST {base}/send_message` with the service's token in
 * `X-Viber-Auth-Token`, a sender name, the phone as receiver, the rendered text and a TTL (seconds Viber keeps
 * trying before it gives up, so an OTP never arrives after its code has expired); the answer carries
 * `status` (0 = accepted) and a `message_token`. Delivery callbacks are JSON posts `{ event: "delivered" | "seen" |
 * "failed", message_token, desc? }`, signed with `X-Viber-Content-Signature`: the hex HMAC-SHA256 of the raw body
 * keyed with the auth token. `baseUrl` is configurable so the sandbox (and tests) stand in for Viber.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { postToProvider, ReceiptTracker } from "../http-provider.js";
import type { MessageOutcome, MessageSender } from "../message-channel.js";

export interface ViberOptions {
  /** Default "https://chatapi.viber.com/pa". */
  baseUrl?: string;
  authToken: string;
  /** the sender name users see (the registered business name), at most 28 characters */
  sender: string;
  /** seconds Viber keeps trying to deliver; default 120 (at least 30, Viber's minimum) */
  ttlSeconds?: number;
  timeoutMs?: number;
  receiptTimeoutMs?: number;
}

/** Viber's non-zero `status` values that mean the receiver cannot get the message at all. */
const UNREACHABLE_STATUSES = new Set([5, 6, 14]);

/** Viber's shortest TTL: a code that lives less than this may still arrive up to this late. */
const VIBER_MIN_TTL_SECONDS = 30;

/**
 * The send_message body. Its TTL is the configured one, cut to what is left of the code's life (`expiresAt`), so
 * Viber stops trying once the code no longer works.
 */
export function viberMessageBody(
  options: ViberOptions,
  message: { to: string; text: string; attemptId: string; expiresAt?: number | undefined },
  now = Date.now(),
) {
  const configured = options.ttlSeconds ?? 120;
  const left = message.expiresAt === undefined ? configured : Math.ceil((message.expiresAt - now) / 1000);
  return {
    receiver: message.to,
    sender: { name: options.sender },
    type: "text",
    text: message.text,
    ttl: Math.max(VIBER_MIN_TTL_SECONDS, Math.min(configured, left)),
    tracking_data: message.attemptId,
  };
}

export function createViberSender(options: ViberOptions): MessageSender {
  const tracker = new ReceiptTracker(options.receiptTimeoutMs ?? 600_000);
  const url = `${(options.baseUrl ?? "https://chatapi.viber.com/pa").replace(/\/$/, "")}/send_message`;

  return {
    send(message, progress) {
      const end = (outcome: Omit<MessageOutcome, "at">) => progress.ended({ at: Date.now(), ...outcome });
      void postToProvider({
        url,
        headers: { "content-type": "application/json", "x-viber-auth-token": options.authToken },
        body: JSON.stringify(viberMessageBody(options, message)),
        timeoutMs: options.timeoutMs ?? 10_000,
      }).then((answer) => {
        if (answer.kind === "failed") return end(answer.outcome);
        const json = answer.json as { status?: unknown; status_message?: unknown; message_token?: unknown };
        if (json.status !== 0) {
          // Viber answers HTTP 200 with a status code for refusals: nothing was sent.
          const detail = `status ${String(json.status)}: ${String(json.status_message ?? "")}`.trim();
          const status = Number(json.status);
          return end({
            delivered: false,
            reason: UNREACHABLE_STATUSES.has(status) ? "undeliverable" : "rejected",
            detail,
          });
        }
        const token = json.message_token;
        if (typeof token !== "string" && typeof token !== "number") {
          return end({ delivered: false, reason: "submit_unknown", detail: "no message_token" });
        }
        const id = String(token);
        progress.accepted(Date.now(), [id]);
        tracker.track(id, end);
      });
    },
    handleReceipt(payload) {
      const token = payload.message_token;
      if (typeof payload.event !== "string" || (typeof token !== "string" && typeof token !== "number")) return false;
      const id = String(token);
      if (payload.event === "delivered" || payload.event === "seen") {
        tracker.settle(id, { delivered: true, reason: "delivered", detail: payload.event });
      } else if (payload.event === "failed") {
        const desc = typeof payload.desc === "string" ? payload.desc.slice(0, 200) : "failed";
        tracker.settle(id, { delivered: false, reason: "undeliverable", detail: desc });
      }
      return true;
    },
    async close() {
      tracker.clear();
    },
  };
}

/** The `X-Viber-Content-Signature` of a callback body: hex HMAC-SHA256 keyed with the auth token. */
export function viberSignature(rawBody: string | Buffer, authToken: string): string {
  return createHmac("sha256", authToken).update(rawBody).digest("hex");
}

export function verifyViberSignature(rawBody: string | Buffer, header: string | undefined, authToken: string): boolean {
  if (!header) return false;
  const expected = Buffer.from(viberSignature(rawBody, authToken));
  const given = Buffer.from(header.toLowerCase());
  return given.length === expected.length && timingSafeEqual(given, expected);
}
