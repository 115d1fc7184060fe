/**
 * Email OTP over SMTP (nodemailer). An SMTP relay's acceptance (`250`) is all email can tell: there is no delivery
 * receipt worth waiting for (a later bounce goes to the sender's mailbox, not to us), so an accepted message is
 * recorded `delivered`, with the relay's answer as its detail. A 5xx from the relay is a rejection, anything else
 * (connection, 4xx) a network error with nothing delivered.
 */
import nodemailer from "nodemailer";
import type { MessageSender } from "../message-channel.js";

export interface EmailOptions {
  host: string;
  port: number;
  /** TLS from the start (port 465); otherwise STARTTLS when the server offers it. Default false. */
  secure?: boolean;
  /** Refuse to send without STARTTLS. Default false. */
  requireTls?: boolean;
  auth?: { user: string; pass: string };
  /** e.g. "Acme <no-reply@acme.example>" */
  from: string;
  /** Default "Your verification code". */
  subject?: string;
  /** Trusted CA (PEM) for a private relay. */
  ca?: string;
  timeoutMs?: number;
}

export function createEmailSender(options: EmailOptions): MessageSender {
  const transport = nodemailer.createTransport({
    host: options.host,
    port: options.port,
    secure: options.secure ?? false,
    requireTLS: options.requireTls ?? false,
    ...(options.auth ? { auth: options.auth } : {}),
    ...(options.ca ? { tls: { ca: options.ca } } : {}),
    connectionTimeout: options.timeoutMs ?? 10_000,
    greetingTimeout: options.timeoutMs ?? 10_000,
    socketTimeout: options.timeoutMs ?? 10_000,
  });
  return {
    send(message, progress) {
      transport
        .sendMail({
          from: options.from,
          to: message.to,
          subject: message.subject ?? options.subject ?? "Your verification code",
          text: message.text,
          // The HTML part carries the language and its direction, so a right-to-left text reads right in mail clients.
          html: htmlBody(message.text, message.language ?? "en", message.rightToLeft ?? false),
        })
        .then((info) => {
          progress.accepted(Date.now(), [info.messageId]);
          progress.ended({ at: Date.now(), delivered: true, reason: "delivered", detail: info.response });
        })
        .catch((error: { responseCode?: number; message: string }) => {
          const rejected = (error.responseCode ?? 0) >= 500;
          progress.ended({
            at: Date.now(),
            delivered: false,
            reason: rejected ? "rejected" : "network_error",
            detail: error.message.slice(0, 300),
          });
        });
    },
    async close() {
      transport.close();
    },
  };
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** The text as a minimal HTML document: escaped, paragraphs kept, `lang` and `dir` set. */
export function htmlBody(text: string, language: string, rightToLeft: boolean): string {
  const paragraphs = text
    .split(/\n{2,}/)
    .map((p) => `<p>${p.replace(/[&<>"']/g, (c) => ESCAPES[c] as string).replace(/\n/g, "<br>")}</p>`)
    .join("\n");
  const dir = rightToLeft ? "rtl" : "ltr";
  return `<!doctype html>\n<html lang="${language}" dir="${dir}"><body dir="${dir}">\n${paragraphs}\n</body></html>`;
}
