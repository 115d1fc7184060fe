/**
 * POST /v1/receipts/{channel}/{token} with bodies of the wrong shape: each is answered 4xx or taken as nothing to
 * settle (204), never a 500, and a well-formed status in the same post still ends its message.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestApp, type TestApp } from "./support/test-app.js";

const RECEIPTS_TOKEN = "receipts_token_0123456789";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ RECEIPTS_TOKEN });
});
afterAll(() => t.close());

const post = (channel: string, payload: string) =>
  t.app.inject({
    method: "POST",
    url: `/v1/receipts/${channel}/${RECEIPTS_TOKEN}`,
    headers: { "content-type": "application/json" },
    payload,
  });

it("takes WhatsApp posts whose entries, changes or statuses are of another shape without failing", async () => {
  const wrapped = (entry: string) => `{"object":"whatsapp_business_account","entry":${entry}}`;
  const bodies = [
    wrapped('[{"changes":1}]'),
    wrapped("[null]"),
    wrapped('[7, "x", {"changes":[null, 3, {"value":null}]}]'),
    wrapped('[{"changes":[{"value":{"statuses":{"id":"wamid.1","status":"delivered"}}}]}]'),
    wrapped('[{"changes":[{"value":{"statuses":[null, 1, "s", {"id":5}]}}]}]'),
  ];
  for (const body of bodies) {
    const res = await post("whatsapp", body);
    expect(res.statusCode, `${body}: ${res.body}`).toBe(204);
  }
  for (const body of ['"x"', "[1]", "null"]) {
    expect((await post("whatsapp", body)).statusCode, body).toBe(400);
  }
});
