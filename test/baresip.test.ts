/**
 * Interop: baresip, a real SIP phone, receives our flash calls and its control port reports the caller ID it saw.
 * First through the whole server (start a verification, the phone shows the call, its caller ID verifies the
 * number), then through trunks that write the CLI their own way (national, with a tech prefix).
 */
import { afterEach, describe, expect, it } from "vitest";
import { startTrunkRouter, type TrunkRouter, TrunkSchema } from "../src/sip/trunks/index.js";
import { SipUac } from "../src/sip/uac.js";
import { type Baresip, baresipInstalled, startBaresip } from "./support/baresip.js";
import { commandExists, peerAvailable } from "./support/peers.js";
import { auth, createTestApp, eventually, type TestApp } from "./support/test-app.js";

const available = peerAvailable("baresip", () => commandExists("baresip") && baresipInstalled());

const PHONE_ADDRESS = "127.0.0.45";
const OUR_ADDRESS = "127.0.0.46";
const PHONE = "+447400123456";

/** The user part of a SIP URI, unescaped: "sip:99%23442079412345@127.0.0.45" -> "99#442079412345". */
const userOf = (uri: string | undefined) => {
  const user = /^sips?:([^@;]+)@/.exec(uri ?? "")?.[1];
  return user === undefined ? undefined : decodeURIComponent(user);
};

describe.skipIf(!available)("baresip as the handset", () => {
  let phone: Baresip | undefined;
  let t: TestApp | undefined;
  let router: TrunkRouter | undefined;
  afterEach(async () => {
    await t?.close();
    await router?.close();
    await phone?.close();
    t = undefined;
    router = undefined;
    phone = undefined;
  });

  it("shows the CLI of a verification's flash call, and that caller ID verifies the number", async () => {
    phone = await startBaresip({ address: PHONE_ADDRESS, number: PHONE });
    t = await createTestApp({
      SANDBOX: "off",
      POOL_NUMBERS: "+4420794xxxxx",
      SIP_LOCAL_ADDRESS: OUR_ADDRESS,
      SIP_RING_TIME_MS: "300",
      SIP_TRUNKS: JSON.stringify([{ id: "phone", host: phone.sip.address, port: phone.sip.port }]),
    });
    const started = await t.app.inject({
      method: "POST",
      url: "/v1/verifications",
      headers: auth(),
      payload: { phone: PHONE },
    });
    expect(started.statusCode).toBe(201);
    const { id, flashcall } = started.json();

    const incoming = await phone.nextEvent("CALL_INCOMING");
    const callerId = userOf(incoming.peeruri) as string;
    expect(callerId).toMatch(/^\+4420794\d{5}$/);
    // The pattern the app was told to expect matches what the phone shows.
    expect(callerId).toMatch(new RegExp(flashcall.cli_filter));
    const closed = await phone.nextEvent("CALL_CLOSED");
    expect(closed.peeruri).toBe(incoming.peeruri);

    const checked = await t.app.inject({
      method: "POST",
      url: `/v1/verifications/${id}/check`,
      headers: auth(),
      payload: { caller_id: callerId },
    });
    expect(checked.json()).toEqual({ id, status: "verified", attempts_remaining: 0 });
    const app = t.app;
    // The call's record reaches the attempt a moment after the phone reports the hang-up.
    const attempt = await eventually(async () => {
      const a = (await app.inject({ method: "GET", url: `/v1/verifications/${id}`, headers: auth() })).json()
        .attempts[0];
      return a.ended_at ? a : undefined;
    });
    expect(attempt).toMatchObject({ status: "delivered", reason: "ringing_canceled", sip_code: 487, trunk: "phone" });
  });

  it.each([
    ["e164", {}, "+442079412345"],
    ["national", { cli_format: "national" }, "02079412345"],
    ["tech prefix", { cli_format: "e164_no_plus", tech_prefix: "99#" }, "99#442079412345"],
  ])("shows the CLI as a trunk writes it: %s", async (_name, format, shown) => {
    phone = await startBaresip({ address: PHONE_ADDRESS, number: PHONE });
    router = await startTrunkRouter({
      trunks: [TrunkSchema.parse({ id: "phone", host: phone.sip.address, port: phone.sip.port, ...format })],
      localAddress: OUR_ADDRESS,
      t1Ms: 100,
      startCaller: (options) => SipUac.create(options),
    });
    const call = { to: PHONE, cli: "+442079412345", ringTimeMs: 200, maxDialMs: 5000 };
    expect(await router.placeCall(call).done).toMatchObject({ trunk: "phone", reason: "ringing_canceled" });
    expect(userOf((await phone.nextEvent("CALL_INCOMING")).peeruri)).toBe(shown);
    await phone.nextEvent("CALL_CLOSED");
  });
});
