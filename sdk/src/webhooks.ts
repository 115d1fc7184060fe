/**
 * Verifying flashverify's webhooks in a backend, with WebCrypto only (Node 20+, Deno, Bun, workers). The scheme is
 * Standard Webhooks: HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{raw body}` under the base64 part of the
 * `whsec_...` secret, sent as `webhook-signature: v1,<base64>` (several, space-separated, during a rotation).
 */

export type WebhookVerdict =
  | { ok: true }
  | { ok: false; reason: "missing_headers" | "stale_timestamp" | "bad_signature" };

/**
 * @param headers the request's headers (any case of names)
 * @param rawBody the body exactly as received, before any JSON parsing
 * @example
 * const verdict = await verifyWebhookSignature(process.env.FLASHVERIFY_WEBHOOK_SECRET!, req.headers, rawBody);
 * if (!verdict.ok) return res.writeHead(400).end(verdict.reason);
 */
export async function verifyWebhookSignature(
  secret: string,
  headers: Record<string, string | string[] | undefined> | Headers,
  rawBody: string,
  options: { toleranceSeconds?: number; nowSeconds?: number } = {},
): Promise<WebhookVerdict> {
  const header = (name: string): string | undefined => {
    if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
    const record = headers as Record<string, string | string[] | undefined>;
    const key = Object.keys(record).find((k) => k.toLowerCase() === name);
    const value = key === undefined ? undefined : record[key];
    return Array.isArray(value) ? value[0] : value;
  };
  const id = header("webhook-id");
  const timestamp = header("webhook-timestamp");
  const signatures = header("webhook-signature");
  if (!id || !timestamp || !signatures || !/^\d+$/.test(timestamp)) return { ok: false, reason: "missing_headers" };
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(timestamp)) > (options.toleranceSeconds ?? 300))
    return { ok: false, reason: "stale_timestamp" };

  const keyBytes = base64Decode(secret.startsWith("whsec_") ? secret.slice(6) : secret);
  const key = await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  const content = new TextEncoder().encode(`${id}.${timestamp}.${rawBody}`);
  for (const candidate of signatures.split(" ")) {
    const [version, mac] = candidate.split(",");
    if (version !== "v1" || !mac) continue;
    // crypto.subtle.verify compares in constant time.
    if (await crypto.subtle.verify("HMAC", key, base64Decode(mac), content)) return { ok: true };
  }
  return { ok: false, reason: "bad_signature" };
}

function base64Decode(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
