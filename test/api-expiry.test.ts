/** Expiry through the API, with the service clock moved by the test instead of sleeping. */
import { afterAll, beforeAll, expect, it } from "vitest";
import { FakeClock } from "./support/scripted-channel.js";
import { auth, createTestApp, eventually, type TestApp } from "./support/test-app.js";

let t: TestApp;
const clock = new FakeClock(Date.now());
beforeAll(async () => {
  t = await createTestApp({}, clock);
});
afterAll(() => t.close());

it("answers expired to a check after the TTL, even with the right caller ID, and the sweep settles the rest", async () => {
  const phone = "+447400200001";
  const started = await t.app.inject({ method: "POST", url: "/v1/verifications", headers: auth(), payload: { phone } });
  const { id } = started.json();
  const from = await eventually(async () => {
    const res = await t.app.inject({ url: `/sandbox/phones/${phone}` });
    return res.json().calls[0]?.from as string | undefined;
  });
  const other = (
    await t.app.inject({
      method: "POST",
      url: "/v1/verifications",
      headers: auth(),
      payload: { phone: "+447400200002" },
    })
  ).json();
  // Both calls end (they ring, then we cancel) before the clock jumps: the timers then hold only the expiries.
  for (const v of [id, other.id]) {
    await eventually(async () => {
      const res = await t.app.inject({ url: `/v1/verifications/${v}`, headers: auth() });
      return (res.json().attempts[0]?.ended_at as string | null) ?? undefined;
    });
  }

  clock.advance(60_000);
  const res = await t.app.inject({
    method: "POST",
    url: `/v1/verifications/${id}/check`,
    headers: auth(),
    payload: { caller_id: from },
  });
  expect(res.json()).toEqual({ id, status: "expired", attempts_remaining: 0 });

  expect(await t.services.verifications.advanceDue()).toBe(1);
  const swept = await t.app.inject({ url: `/v1/verifications/${other.id}`, headers: auth() });
  expect(swept.json()).toMatchObject({ status: "expired", reason: "ttl" });
});
