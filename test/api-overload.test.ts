/** New verifications are refused with 503 + Retry-After while the event loop lags; checks still work. */
import { afterAll, beforeAll, expect, it } from "vitest";
import { auth, createTestApp, eventually, TEST_KEY, type TestApp } from "./support/test-app.js";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ OVERLOAD_MAX_LAG_MS: "100" });
});
afterAll(() => t.close());

function blockEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // a stand-in for a process too busy to keep its timers
  }
}

it("sheds starts while the loop lags, answers checks, and recovers by itself", async () => {
  // Start-up itself (compiling modules, building the app) can lag the loop past the limit on a busy machine.
  await eventually(() => (t.services.lag.overloaded ? undefined : true), 10_000);
  const accepted = await t.app.inject({
    method: "POST",
    url: "/v1/verifications",
    headers: auth(),
    payload: { phone: "+447400300001" },
  });
  expect(accepted.statusCode).toBe(201);

  await new Promise((resolve) => setTimeout(resolve, 50));
  blockEventLoop(300);
  await new Promise((resolve) => setTimeout(resolve, 30));
  expect(t.services.lag.lagMs).toBeGreaterThan(100);

  const shed = await t.app.inject({
    method: "POST",
    url: "/v1/verifications",
    headers: auth(),
    payload: { phone: "+447400300002" },
  });
  expect(shed.statusCode).toBe(503);
  expect(shed.headers["retry-after"]).toBe("1");
  expect(shed.json().error.code).toBe("OVERLOADED");
  expect(t.services.sandbox?.handsets.calls("+447400300002")).toEqual([]);
  // The message-list API places calls too, and is shed the same way.
  const list = await t.app.inject({
    method: "POST",
    url: "/bat/messagelist",
    headers: { "x-authorization-key": TEST_KEY },
    payload: { messages: [{ to: "447400300004", type: "flashcall" }] },
  });
  expect(list.statusCode).toBe(503);
  expect(list.json().error.code).toBe("OVERLOADED");
  expect(t.services.sandbox?.handsets.calls("+447400300004")).toEqual([]);

  const check = await t.app.inject({
    method: "POST",
    url: `/v1/verifications/${accepted.json().id}/check`,
    headers: auth(),
    payload: { code: "0000" },
  });
  expect(check.statusCode).toBe(200);

  // Recovery needs a calm second; on a busy machine that may take a few.
  for (let i = 0; i < 100 && t.services.lag.overloaded; i++) await new Promise((resolve) => setTimeout(resolve, 100));
  expect(t.services.lag.overloaded).toBe(false);
  const later = await t.app.inject({
    method: "POST",
    url: "/v1/verifications",
    headers: auth(),
    payload: { phone: "+447400300003" },
  });
  expect(later.statusCode).toBe(201);
});
