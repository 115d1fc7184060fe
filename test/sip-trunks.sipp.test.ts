/**
 * Interop: the trunk layer against SIPp playing carriers. A trunk that answers 503 hands the call to the next one,
 * end to end through the server (the attempt says which trunk carried it and which failed first); a trunk that
 * never answers is taken out of service after repeated timeouts and put back when it answers OPTIONS again.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startTrunkRouter, type TrunkEvent, type TrunkRouter, TrunkSchema } from "../src/sip/trunks/index.js";
import { SipUac } from "../src/sip/uac.js";
import { headerValues, type SippResult, startSipp } from "./sipp/sipp.js";
import { commandExists, peerAvailable } from "./support/peers.js";
import { auth, createTestApp, eventually, type TestApp } from "./support/test-app.js";

const available = peerAvailable("sipp", () => commandExists("sipp"));

const OUR_ADDRESS = "127.0.0.40";
const CALL = { to: "+447400123456", cli: "+442079412345", ringTimeMs: 100, maxDialMs: 5000 };

function expectPassed(run: SippResult, calls = 1): void {
  expect({ exitCode: run.exitCode, successful: run.successful, failed: run.failed, errors: run.errors }).toEqual({
    exitCode: 0,
    successful: calls,
    failed: 0,
    errors: "",
  });
}

describe.skipIf(!available)("trunk failover against SIPp carriers", () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it("a 503 from the first trunk moves the call to the second, which rings: delivered via trunk 2", async () => {
    const first = await startSipp({ scenario: "uas-unavailable.xml", address: "127.0.0.41" });
    const second = await startSipp({ scenario: "uas-ring-cancel.xml", address: "127.0.0.42" });
    t = await createTestApp({
      SANDBOX: "off",
      POOL_NUMBERS: "+4420794xxxxx",
      SIP_LOCAL_ADDRESS: OUR_ADDRESS,
      SIP_TRUNKS: JSON.stringify([
        { id: "carrier-a", host: first.address, port: first.port },
        { id: "carrier-b", host: second.address, port: second.port, cli_format: "e164_no_plus" },
      ]),
      SIP_ROUTES: JSON.stringify([
        {
          prefixes: ["+44"],
          trunks: [
            { id: "carrier-a", priority: 1 },
            { id: "carrier-b", priority: 2 },
          ],
        },
      ]),
    });
    const app = t.app;
    const started = await app.inject({
      method: "POST",
      url: "/v1/verifications",
      headers: auth(),
      payload: { phone: "+447400123456" },
    });
    expect(started.statusCode).toBe(201);
    const id = started.json().id as string;
    const attempt = await eventually(async () => {
      const res = await app.inject({ method: "GET", url: `/v1/verifications/${id}`, headers: auth() });
      const a = res.json().attempts[0];
      return a.ended_at ? a : undefined;
    }, 10_000);
    expect(attempt).toMatchObject({
      status: "delivered",
      reason: "ringing_canceled",
      sip_code: 487,
      trunk: "carrier-b",
    });
    expect(attempt.post_dial_delay_ms).toBeGreaterThanOrEqual(0);

    const events = await t.services.store.listEvents(id);
    const delivered = events.find((e) => e.type === "attempt.delivered");
    expect(delivered?.data).toMatchObject({
      trunk: "carrier-b",
      failed_over: [{ trunk: "carrier-a", reason: "network_error", sip_code: 503 }],
    });

    const [firstRun, secondRun] = await Promise.all([first.result, second.result]);
    expectPassed(firstRun);
    expectPassed(secondRun);
    // Each trunk got the CLI written its own way.
    const inviteTo = (run: SippResult) => run.messages.find((m) => m.startLine.startsWith("INVITE "));
    expect(headerValues(inviteTo(firstRun)!, "From")[0]).toMatch(/^<sip:\+44207\d{7}@/);
    expect(headerValues(inviteTo(secondRun)!, "From")[0]).toMatch(/^<sip:44207\d{7}@/);
  });
});

describe.skipIf(!available)("trunk breaker against SIPp", () => {
  let router: TrunkRouter | undefined;
  afterEach(async () => {
    await router?.close();
    router = undefined;
  });

  it("takes a trunk that never answers out of service, and OPTIONS brings it back", async () => {
    const silent = await startSipp({ scenario: "uas-silent.xml", address: "127.0.0.43", calls: 2 });
    const backup = await startSipp({ scenario: "uas-ring-cancel.xml", address: "127.0.0.44", calls: 3 });
    const events: TrunkEvent[] = [];
    router = await startTrunkRouter({
      trunks: [
        TrunkSchema.parse({
          id: "silent",
          host: silent.address,
          port: silent.port,
          invite_timeout_ms: 500,
          breaker_failures: 2,
          probe_interval_ms: 300,
        }),
        TrunkSchema.parse({ id: "backup", host: backup.address, port: backup.port }),
      ],
      localAddress: OUR_ADDRESS,
      t1Ms: 50,
      onEvent: (event) => events.push(event),
      startCaller: (options) => SipUac.create(options),
    });

    for (let i = 0; i < 2; i++) {
      const record = await router.placeCall(CALL).done;
      expect(record).toMatchObject({ trunk: "backup", reason: "ringing_canceled" });
      expect(record.failedOver).toEqual([{ trunk: "silent", reason: "timeout", finalCode: null, reasonHeader: null }]);
    }
    expect(events).toEqual([{ type: "out_of_service", trunk: "silent" }]);

    // Out of service: the next call goes straight to the backup.
    expect(await router.placeCall(CALL).done).toMatchObject({ trunk: "backup", failedOver: [] });
    expectPassed(await backup.result, 3);

    // The silent peer is gone: probes go unanswered and the trunk stays out ...
    await silent.result;
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(router.status().find((s) => s.id === "silent")?.inService).toBe(false);

    // ... until something on its address answers OPTIONS.
    const answering = await startSipp({ scenario: "uas-options.xml", address: silent.address, port: silent.port });
    await eventually(() => (router?.status().find((s) => s.id === "silent")?.inService ? true : undefined), 10_000);
    expect(events.at(-1)).toEqual({ type: "back_in_service", trunk: "silent" });
    expectPassed(await answering.result);
  });
});
