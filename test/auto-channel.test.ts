/**
 * Workflow auto (issue 18) on the real stack: a few hundred sandbox verifications through the virtual carrier over
 * real SIP, each driven the way an app would (read the missed call, else report it not received and ask for the
 * SMS). The +447520 range's operator drops flash calls silently; +4474003... is healthy. The dropping network moves
 * to SMS once the window holds enough calls, the healthy one keeps flash calls, and exploration keeps sampling. The
 * same measurement passes over a trunk that drops a range while another delivers it. The measurement is in the
 * database: a restart keeps it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { VirtualHandsets } from "../src/sandbox/handsets.js";
import { POSTGRES_URL, postgresAvailable, testSchema } from "./support/postgres.js";
import { auth, createTestApp, eventually, TEST_KEY, type TestApp } from "./support/test-app.js";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read field by field and asserted, not trusted
type Json = Record<string, any>;

const dir = mkdtempSync(join(tmpdir(), "flashverify-auto-"));
const apps: TestApp[] = [];
afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  rmSync(dir, { recursive: true, force: true });
});

const MIN_SAMPLES = 20;
const EXPLORATION = 0.1;
const AUTO = {
  WORKFLOW: "auto",
  AUTO_WINDOW_SECONDS: "300",
  AUTO_MIN_SAMPLES: String(MIN_SAMPLES),
  AUTO_MIN_CONVERSION: "0.3",
  AUTO_EXPLORATION: String(EXPLORATION),
  AUTO_FLUSH_MS: "100",
  SIP_RING_TIME_MS: "50",
};
/** verifications in flight at once, as many users would be */
const CONCURRENCY = 12;

async function open(env: Record<string, string>): Promise<TestApp> {
  const t = await createTestApp({ ...AUTO, ...env });
  apps.push(t);
  return t;
}

async function start(t: TestApp, phone: string): Promise<Json> {
  const res = await t.app.inject({
    method: "POST",
    url: "/v1/verifications",
    headers: auth(),
    payload: { phone, workflow: "auto" },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

const get = async (t: TestApp, id: string, token?: string): Promise<Json> =>
  (await t.app.inject({ url: `/v1/verifications/${id}`, headers: auth(token) })).json();

const post = (t: TestApp, id: string, action: string, token: string, payload?: Json) =>
  t.app.inject({ method: "POST", url: `/v1/verifications/${id}/${action}`, headers: auth(token), payload });

interface Outcome {
  phone: string;
  id: string;
  /** the first step's channel, as auto chose it */
  first: string;
  choice: Json;
  trunk: string | null;
}

/**
 * One person verifying: a flash call is waited for and read from the phone; when none shows by the time the call
 * has ended, the app reports it not received and asks for the SMS, whose code it reads. `onNoCall` replaces the SMS
 * where there is none.
 */
async function verifyAsAUser(
  t: TestApp,
  phone: string,
  calls: (phone: string) => { from: string; result: string }[],
  onNoCall = async (id: string, token: string) => {
    expect((await post(t, id, "next", token)).statusCode).toBe(200);
    await verifyBySms(t, phone, id, token);
  },
): Promise<Outcome> {
  const started = await start(t, phone);
  const { id, client_token: token } = started;
  const outcome = { phone, id, first: started.channel, choice: started.verification.channel_choice, trunk: null };
  if (started.channel !== "flashcall") {
    await verifyBySms(t, phone, id, token);
    return outcome;
  }
  const ended = await eventually(async () => {
    const v = await get(t, id);
    return v.attempts[0]?.ended_at ? v : undefined;
  }, 15_000);
  const call = calls(phone).find((c) => c.result === "missed");
  if (call) {
    const checked = await post(t, id, "check", token, { caller_id: call.from });
    expect(checked.json()).toMatchObject({ status: "verified" });
  } else {
    const reported = await post(t, id, "report", token, { flashcall: { outcome: "not_received", source: "call_log" } });
    expect(reported.statusCode, reported.body).toBe(200);
    await onNoCall(id, token);
  }
  return { ...outcome, trunk: ended.attempts[0].trunk };
}

async function verifyBySms(t: TestApp, phone: string, id: string, token: string): Promise<void> {
  const code = await eventually(() => t.services.sandbox?.smsc.messages(phone)[0]?.text.match(/\b(\d{6})\b/)?.[1]);
  expect((await post(t, id, "check", token, { code })).json()).toMatchObject({ status: "verified" });
}

/** Runs `tasks` in order, `CONCURRENCY` at a time; results in the order of the tasks. */
async function inTurn<T>(tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await (tasks[i] as () => Promise<T>)();
      }
    }),
  );
  return results;
}

const pad = (i: number) => String(i).padStart(5, "0");

describe("workflow auto", () => {
  it("moves a network that drops flash calls to SMS within the window; a healthy one keeps them", async () => {
    const t = await open({ DATABASE_URL: `sqlite:${join(dir, "auto.db")}` });
    const handsets = t.services.sandbox?.handsets as VirtualHandsets;
    const calls = (phone: string) => handsets.calls(phone);
    const N = 150;
    const began = Date.now();
    const tasks = Array.from({ length: 2 * N }, (_, i) => {
      const phone = i % 2 === 0 ? `+4475201${pad(i * 10 + 1)}` : `+4474003${pad(i * 10 + 1)}`;
      return () => verifyAsAUser(t, phone, calls);
    });
    const outcomes = await inTurn(tasks);
    const elapsed = Date.now() - began;
    const dropping = outcomes.filter((o) => o.phone.startsWith("+447520"));
    const healthy = outcomes.filter((o) => o.phone.startsWith("+447400"));

    // Healthy: every start a flash call, every one verified by it.
    expect(healthy.map((o) => o.first)).toEqual(Array(N).fill("flashcall"));
    expect(new Set(healthy.map((o) => o.choice.reason))).toEqual(new Set(["measured"]));
    // Measured as calls end and checks arrive: a few calls whose check is on its way count as not (yet) verified.
    expect(healthy.at(-1)?.choice).toMatchObject({ network: "GB:7400" });
    expect(healthy.at(-1)?.choice.flashcall_conversion).toBeGreaterThan(0.9);

    // Dropping: flash calls until the window holds enough of them, then SMS first, all within the window.
    const switched = dropping.findIndex((o) => o.choice.reason === "below_threshold");
    expect(switched).toBeGreaterThanOrEqual(MIN_SAMPLES);
    expect(switched).toBeLessThanOrEqual(MIN_SAMPLES + 3 * CONCURRENCY);
    expect(elapsed).toBeLessThan(Number(AUTO.AUTO_WINDOW_SECONDS) * 1000);
    expect(dropping.slice(0, MIN_SAMPLES).map((o) => o.first)).toEqual(Array(MIN_SAMPLES).fill("flashcall"));
    const after = dropping.slice(switched);
    const explored = after.filter((o) => o.first === "flashcall");
    // Exploration keeps sampling the flash call: about one start in ten, never none and never most.
    expect(explored.length).toBeGreaterThan(0);
    expect(explored.length).toBeLessThan(after.length * 0.3);
    expect(explored.every((o) => o.choice.reason === "exploration")).toBe(true);
    expect(after.filter((o) => o.first === "sms").every((o) => o.choice.reason === "below_threshold")).toBe(true);

    // The reason, on the verification and in its started event; never shown to a client token.
    const moved = dropping[switched] as Outcome;
    expect(moved.choice).toMatchObject({
      network: "GB:7520",
      flashcall_conversion: 0,
      workflow: ["sms"],
      reason: "below_threshold",
    });
    expect(moved.choice.samples).toBeGreaterThanOrEqual(MIN_SAMPLES);
    expect(moved.choice.conversion_upper_bound).toBeLessThan(0.3);
    expect(moved.choice.expected_cost_per_verified["flashcall>sms"]).toBeGreaterThan(
      moved.choice.expected_cost_per_verified.sms,
    );
    const events = (await t.app.inject({ url: `/v1/verifications/${moved.id}/events`, headers: auth() })).json().data;
    expect(events[0]).toMatchObject({ type: "verification.started", data: { channel_choice: moved.choice } });
    const stored = await get(t, moved.id);
    expect(stored).toMatchObject({ status: "verified", channel_choice: moved.choice });

    // /v1/stats: conversion, reports and decisions per network.
    await t.services.delivery.flush();
    const stats = (await t.app.inject({ url: "/v1/stats", headers: auth() })).json();
    const byNetwork = new Map<string, Json>((stats.delivery.networks as Json[]).map((n) => [n.network, n]));
    const dropped = byNetwork.get("GB:7520") as Json;
    const flashcallsToDropping = dropping.filter((o) => o.first === "flashcall").length;
    expect(dropped.flashcall).toMatchObject({ placed: flashcallsToDropping, verified: 0, conversion: 0 });
    expect(dropped.flashcall.reports).toEqual({ received: 0, late: 0, not_received: flashcallsToDropping });
    // Every start auto decided by the measurement, as each start recorded it (an exploring start may come before the
    // first one moved, since starts run concurrently).
    const decided = dropping.filter((o) => o.choice.reason === "below_threshold" || o.choice.reason === "exploration");
    expect(decided.length).toBeGreaterThanOrEqual(N - switched);
    expect(dropped.decisions.below_threshold + dropped.decisions.exploration).toBe(decided.length);
    expect(byNetwork.get("GB:7400")?.flashcall).toMatchObject({ placed: N, verified: N, conversion: 1 });

    // An app that can dial gets the reverse flash call instead of the SMS: the user calls, the caller ID proves it.
    // (A start that explores keeps its flash call: the next one is taken, a few at most.)
    const dialled: Json[] = [];
    for (let i = 0; i < 6 && !dialled.some((d) => d.channel === "reverse_flashcall"); i++) {
      const res = await t.app.inject({
        method: "POST",
        url: "/v1/verifications",
        headers: auth(),
        payload: { phone: `+44752077777${i}`, workflow: "auto", client: { platform: "android", can_dial: true } },
      });
      dialled.push(res.json());
    }
    const dialling = dialled.at(-1) as Json;
    const phone = dialling.verification.phone ?? "";
    expect(dialling).toMatchObject({ channel: "reverse_flashcall", reverse_flashcall: { dial: expect.any(String) } });
    expect(dialling.verification.channel_choice).toMatchObject({
      reason: "below_threshold",
      workflow: ["reverse_flashcall", "sms"],
    });
    const called = await t.app.inject({
      method: "POST",
      url: `/sandbox/phones/${encodeURIComponent(phone)}/calls`,
      payload: { to: dialling.reverse_flashcall.dial },
    });
    expect(called.statusCode, called.body).toBe(200);
    expect(await get(t, dialling.id)).toMatchObject({ status: "verified", verified_caller_id: phone });

    // A restart keeps what was measured: the next start to the dropping network is judged at once.
    await t.close();
    apps.splice(apps.indexOf(t), 1);
    const again = await open({ DATABASE_URL: `sqlite:${join(dir, "auto.db")}` });
    const next = await start(again, "+447520999999");
    expect(next.verification.channel_choice).toMatchObject({ network: "GB:7520", flashcall_conversion: 0 });
    // (plus the calls of the starts above that explored, written as they ended or at the shutdown)
    const explorers = dialled.filter((d) => d.channel === "flashcall").length;
    expect(next.verification.channel_choice.samples).toBeGreaterThanOrEqual(flashcallsToDropping);
    expect(next.verification.channel_choice.samples).toBeLessThanOrEqual(flashcallsToDropping + explorers);
  }, 60_000);

  it("passes over a trunk that drops a range while another delivers it, still sampling it", async () => {
    const drops = await VirtualHandsets.create({ address: "127.0.19.1", port: 0, t1Ms: 20 });
    const delivers = await VirtualHandsets.create({ address: "127.0.19.2", port: 0, t1Ms: 20, droppingPrefixes: [] });
    try {
      const t = await open({
        SANDBOX: "off",
        POOL_NUMBERS: "+4420794xxxxx",
        SIP_LOCAL_ADDRESS: "127.0.19.3",
        SIP_TRUNKS: JSON.stringify([
          { id: "drops", host: drops.local.address, port: drops.local.port },
          { id: "delivers", host: delivers.local.address, port: delivers.local.port },
        ]),
      });
      const calls = (phone: string) => [...drops.calls(phone), ...delivers.calls(phone)];
      // No SMS on this server: a call that never came ends the verification.
      const giveUp = async (id: string) => {
        expect((await post(t, id, "cancel", TEST_KEY)).statusCode).toBe(200);
      };
      const N = 160;
      const outcomes = await inTurn(
        Array.from({ length: N }, (_, i) => () => verifyAsAUser(t, `+4475202${pad(i * 10 + 1)}`, calls, giveUp)),
      );
      // The configured order tries "drops" first: it carries every call until it has been measured.
      expect(outcomes.slice(0, MIN_SAMPLES).map((o) => o.trunk)).toEqual(Array(MIN_SAMPLES).fill("drops"));
      const last = outcomes.slice(N / 2);
      const viaDrops = last.filter((o) => o.trunk === "drops").length;
      expect(last.filter((o) => o.trunk === "delivers").length).toBeGreaterThan(last.length * 0.7);
      // Exploration: the failing trunk still gets a share, so it can show it recovered.
      expect(viaDrops).toBeGreaterThan(0);
      // Without another channel on this server the network keeps flash calls: only the trunk changed.
      expect(outcomes.every((o) => o.first === "flashcall")).toBe(true);
      const stats = (await t.app.inject({ url: "/v1/stats", headers: auth() })).json();
      const network = (stats.delivery.networks as Json[]).find((n) => n.network === "GB:7520") as Json;
      const byTrunk = new Map((network.trunks as Json[]).map((x) => [x.trunk, x]));
      expect(byTrunk.get("drops")).toMatchObject({ verified: 0, failing: true });
      expect(byTrunk.get("delivers")).toMatchObject({ conversion: 1, failing: false });
    } finally {
      await drops.close();
      await delivers.close();
    }
  }, 60_000);

  it.skipIf(!postgresAvailable())(
    "shares the measurement between nodes on one PostgreSQL: what one measured, the other decides by",
    async () => {
      const schema = await testSchema();
      try {
        const url = `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema.name}`)}`;
        const a = await open({ DATABASE_URL: url });
        const b = await open({ DATABASE_URL: url });
        const calls = (phone: string) => a.services.sandbox?.handsets.calls(phone) ?? [];
        const measured = await inTurn(
          Array.from(
            { length: MIN_SAMPLES + 4 },
            (_, i) => () => verifyAsAUser(a, `+4475203${pad(i * 10 + 1)}`, calls),
          ),
        );
        const placed = measured.filter((o) => o.first === "flashcall").length;
        expect(placed).toBeGreaterThanOrEqual(MIN_SAMPLES);
        await a.services.delivery.flush();
        await b.services.delivery.flush();
        // Node b has placed no call to the network, yet judges it by node a's calls and reports.
        const started = await start(b, "+447520333331");
        expect(started.verification.channel_choice).toMatchObject({ network: "GB:7520", flashcall_conversion: 0 });
        expect(started.verification.channel_choice.samples).toBe(placed);
        expect(["below_threshold", "exploration"]).toContain(started.verification.channel_choice.reason);
        const stats = (await b.app.inject({ url: "/v1/stats", headers: auth() })).json();
        const network = (stats.delivery.networks as Json[]).find((n) => n.network === "GB:7520") as Json;
        expect(network.flashcall).toMatchObject({ placed, verified: 0 });
        expect(network.flashcall.reports.not_received).toBe(placed);
        await Promise.all([a, b].map((t) => t.close()));
        apps.splice(0, apps.length, ...apps.filter((t) => t !== a && t !== b));
      } finally {
        await schema.drop();
      }
    },
    60_000,
  );
});
