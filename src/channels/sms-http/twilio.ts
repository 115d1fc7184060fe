/**
 * Twilio's Messages API as an HTTP SMS provider: form-encoded `To`/`From`/`Body` to
 * `/2010-04-01/Accounts/{AccountSid}/Messages.json` with HTTP Basic auth, the message `sid` in the answer, and
 * status callbacks (`MessageSid`, `MessageStatus`, `ErrorCode`) posted to our webhook. `baseUrl` is configurable
 * so tests and regional edges can be used.
 */
import type { MessageSender } from "../message-channel.js";
import { createHttpSmsSender } from "./index.js";

export interface TwilioSmsOptions {
  /** Default "https://api.twilio.com". */
  baseUrl?: string;
  accountSid: string;
  authToken: string;
  /** a Twilio number (+E.164), alphanumeric sender id, or a Messaging Service SID (MG...) */
  from: string;
  /** our public delivery-report URL for this channel */
  statusCallbackUrl?: string;
  timeoutMs?: number;
}

export function createTwilioSmsSender(options: TwilioSmsOptions): MessageSender {
  const base = (options.baseUrl ?? "https://api.twilio.com").replace(/\/$/, "");
  const sender = options.from.startsWith("MG") ? { MessagingServiceSid: "{{from}}" } : { From: "{{from}}" };
  return createHttpSmsSender({
    url: `${base}/2010-04-01/Accounts/${encodeURIComponent(options.accountSid)}/Messages.json`,
    headers: {
      authorization: `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString("base64")}`,
    },
    encoding: "form",
    body: {
      To: "{{to}}",
      ...sender,
      Body: "{{text}}",
      ...(options.statusCallbackUrl ? { StatusCallback: options.statusCallbackUrl } : {}),
    },
    from: options.from,
    responseIdPath: "sid",
    receipt: {
      idPath: "MessageSid",
      statusPath: "MessageStatus",
      delivered: ["delivered", "read"],
      failed: ["undelivered", "failed", "canceled"],
      errorPath: "ErrorCode",
    },
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
}
