/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): the signed content is
 * `{webhook-id}.{webhook-timestamp}.{body}`, signed with HMAC-SHA256 under the base64-decoded part of a
 * `whsec_...` secret, and sent as `webhook-signature: v1,<base64>`; several signatures (during a secret rotation)
 * are separated by spaces. `verifyWebhook` is what a receiver runs; it has no dependency but node:crypto.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

const PREFIX = "whsec_";

/** A new signing secret: `whsec_` and 24 random bytes in base64. */
export function newWebhookSecret(): string {
  return `${PREFIX}${randomBytes(24).toString("base64")}`;
}

function key(secret: string): Buffer {
  return Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, "base64");
}

/** The `v1,<base64>` signature of one message under one secret. */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const mac = createHmac("sha256", key(secret)).update(`${id}.${timestamp}.${body}`).digest("base64");
  return `v1,${mac}`;
}

/**
 * The three headers of a signed request. `timestamp` is in seconds; every secret given signs (the current one and,
 * during a rotation, the previous one).
 */
export function webhookHeaders(
  secrets: readonly string[],
  id: string,
  timestamp: number,
  body: string,
): Record<"webhook-id" | "webhook-timestamp" | "webhook-signature", string> {
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": secrets.map((s) => signWebhook(s, id, timestamp, body)).join(" "),
  };
}

export type VerifyFailure = "missing_headers" | "stale_timestamp" | "bad_signature";

/**
 * Checks a received webhook: the timestamp within `toleranceSeconds` (default 300) of now, and one of the
 * `v1,` signatures matching under `secret`, compared in constant time. Pass the raw body, exactly as received.
 *
 * @example
 * const check = verifyWebhook(process.env.WEBHOOK_SECRET, req.headers, rawBody);
 * if (!check.ok) return res.writeHead(400).end(check.reason);
 */
export function verifyWebhook(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  body: string,
  options: { toleranceSeconds?: number; nowSeconds?: number } = {},
): { ok: true } | { ok: false; reason: VerifyFailure } {
  const header = (name: string) => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const id = header("webhook-id");
  const timestamp = header("webhook-timestamp");
  const signatures = header("webhook-signature");
  if (!id || !timestamp || !signatures || !/^\d+$/.test(timestamp)) return { ok: false, reason: "missing_headers" };
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(timestamp)) > (options.toleranceSeconds ?? 300)) {
    return { ok: false, reason: "stale_timestamp" };
  }
  const expected = Buffer.from(signWebhook(secret, id, Number(timestamp), body));
  for (const candidate of signatures.split(" ")) {
    const given = Buffer.from(candidate);
    if (given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true };
  }
  return { ok: false, reason: "bad_signature" };
}
