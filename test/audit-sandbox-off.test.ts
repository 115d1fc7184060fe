/**
 * With SANDBOX=off and the reverse flash call on real inbound numbers, nothing of the sandbox answers: a virtual
 * phone's call (`POST /sandbox/phones/{e164}/calls`) would otherwise place an INVITE from a trusted address with any
 * caller ID, verifying any phone's reverse flash call for anyone.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auth, createTestApp, type TestApp } from "./support/test-app.js";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({
    SANDBOX: "off",
    SIP_TRUNK_HOST: "127.0.26.70",
    SIP_LOCAL_ADDRESS: "127.0.26.71",
    POOL_NUMBERS: "+44207946xxxx",
    INBOUND_NUMBERS: "+442079460944",
    INBOUND_SIP_ADDRESS: "127.0.26.71",
    INBOUND_SIP_PORT: "0",
  });
});
afterAll(async () => {
  await t?.close();
});

describe("the sandbox's routes with SANDBOX=off", () => {
  it("do not exist, while the reverse flash call does", async () => {
    const started = await t.app.inject({
      method: "POST",
      url: "/v1/verifications",
      headers: auth(),
      payload: { phone: "+447400126501", workflow: [{ channel: "reverse_flashcall" }] },
    });
    expect(started.statusCode, started.body).toBe(201);
    const dial = started.json().reverse_flashcall.dial as string;
    for (const request of [
      { method: "POST" as const, url: "/sandbox/phones/+447400126501/calls", payload: { to: dial } },
      { method: "GET" as const, url: "/sandbox/phones/+447400126501" },
      { method: "GET" as const, url: "/sandbox/inbox/someone@example.com" },
    ]) {
      const res = await t.app.inject(request);
      expect(res.statusCode, request.url).toBe(404);
      expect(res.json().error.code).toBe("NOT_FOUND");
    }
    const read = await t.app.inject({ url: `/v1/verifications/${started.json().id}`, headers: auth() });
    expect(read.json().status).toBe("pending");
  });
});
