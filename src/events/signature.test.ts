import { describe, expect, it } from "vitest";
import { newWebhookSecret, signWebhook, verifyWebhook, webhookHeaders } from "./signature.js";

// The example of the Standard Webhooks specification, so that our signer agrees with every other implementation.
const SPEC = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};

describe("Standard Webhooks signatures", () => {
  it("matches the specification's example", () => {
    expect(signWebhook(SPEC.secret, SPEC.id, SPEC.timestamp, SPEC.body)).toBe(SPEC.signature);
  });

  const headers = webhookHeaders([SPEC.secret], SPEC.id, SPEC.timestamp, SPEC.body);
  const at = { nowSeconds: SPEC.timestamp + 10 };

  it("verifies a genuine request", () => {
    expect(headers).toEqual({
      "webhook-id": SPEC.id,
      "webhook-timestamp": String(SPEC.timestamp),
      "webhook-signature": SPEC.signature,
    });
    expect(verifyWebhook(SPEC.secret, headers, SPEC.body, at)).toEqual({ ok: true });
  });

  it("refuses a tampered body, id or timestamp, and another secret", () => {
    expect(verifyWebhook(SPEC.secret, headers, '{"test": 2432232315}', at)).toEqual({
      ok: false,
      reason: "bad_signature",
    });
    expect(verifyWebhook(SPEC.secret, { ...headers, "webhook-id": "msg_other" }, SPEC.body, at).ok).toBe(false);
    const shifted = { ...headers, "webhook-timestamp": String(SPEC.timestamp + 1) };
    expect(verifyWebhook(SPEC.secret, shifted, SPEC.body, at).ok).toBe(false);
    expect(verifyWebhook(newWebhookSecret(), headers, SPEC.body, at).ok).toBe(false);
  });

  it("refuses a stale or future timestamp, even with a valid signature", () => {
    expect(verifyWebhook(SPEC.secret, headers, SPEC.body, { nowSeconds: SPEC.timestamp + 301 })).toEqual({
      ok: false,
      reason: "stale_timestamp",
    });
    expect(verifyWebhook(SPEC.secret, headers, SPEC.body, { nowSeconds: SPEC.timestamp - 301 }).ok).toBe(false);
    expect(verifyWebhook(SPEC.secret, headers, SPEC.body, { nowSeconds: SPEC.timestamp + 300 }).ok).toBe(true);
  });

  it("refuses missing headers", () => {
    expect(verifyWebhook(SPEC.secret, { ...headers, "webhook-signature": undefined }, SPEC.body, at)).toEqual({
      ok: false,
      reason: "missing_headers",
    });
    expect(verifyWebhook(SPEC.secret, { ...headers, "webhook-timestamp": "soon" }, SPEC.body, at).ok).toBe(false);
  });

  it("sends both signatures during a rotation, and either secret verifies", () => {
    const previous = newWebhookSecret();
    const current = newWebhookSecret();
    const rotated = webhookHeaders([current, previous], SPEC.id, SPEC.timestamp, SPEC.body);
    expect(rotated["webhook-signature"].split(" ")).toHaveLength(2);
    expect(verifyWebhook(current, rotated, SPEC.body, at).ok).toBe(true);
    expect(verifyWebhook(previous, rotated, SPEC.body, at).ok).toBe(true);
    expect(verifyWebhook(newWebhookSecret(), rotated, SPEC.body, at).ok).toBe(false);
  });

  it("makes secrets of 24 random bytes", () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(Buffer.from(secret.slice(6), "base64")).toHaveLength(24);
  });
});
