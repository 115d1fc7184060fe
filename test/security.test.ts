/**
 * The security suite: hostile and malformed input on every route (each answered 4xx, with the database's row counts
 * unchanged and no call placed), property-based tests of normalisation, matching and the lifecycle, concurrent
 * checks, a brute force of the whole code space, and what an unknown id, a wrong code and a locked number answer.
 * It prints what it tried, so a CI log shows the attack surface covered.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readReportedCli } from "../src/core/matching.js";
import { parseDestination } from "../src/core/phone.js";
import type { AttemptOutcome } from "../src/core/ports.js";
import type { Verification } from "../src/core/types.js";
import {
  applyCheck,
  cancel,
  expire,
  isFinal,
  markAttemptEnded,
  markRinging,
  type Transition,
} from "../src/core/verification.js";
import type { SqliteStore } from "../src/storage/sqlite-store.js";
import { raceFailureBudget } from "./support/check-race.js";
import { POSTGRES_URL, postgresAvailable, testSchema } from "./support/postgres.js";
import { REDIS_URL, redisAvailable } from "./support/redis.js";
import { auth, createTestApp, DEFAULT_FRAUD_SETTINGS, eventually, type TestApp } from "./support/test-app.js";

const TABLES = [
  "verifications",
  "attempts",
  "events",
  "cli_leases",
  "idempotency_keys",
  "fraud_rules",
  "phone_last_cli",
];

function rowCounts(t: TestApp): Record<string, number> {
  const db = (t.services.store as unknown as SqliteStore).db;
  return Object.fromEntries(
    TABLES.map((table) => [table, (db.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n]),
  );
}

const missedCallFrom = (t: TestApp, phone: string, count = 1) =>
  eventually(() => {
    const calls = t.services.sandbox?.handsets.calls(phone) ?? [];
    return calls.length >= count && calls[0]?.result === "missed" ? calls[0].from : undefined;
  });

const deepJson = (depth: number) => `{"phone":"+447400123456","metadata":${"[".repeat(depth)}${"]".repeat(depth)}}`;
const MB = 1024 * 1024;

describe("hostile input changes nothing", () => {
  let t: TestApp;
  let pending: { id: string; client_token: string };
  beforeAll(async () => {
    t = await createTestApp();
    const res = await t.app.inject({
      method: "POST",
      url: "/v1/verifications",
      headers: auth(),
      payload: { phone: "+447400210001" },
    });
    pending = res.json();
    // Row counts are compared below: let the call's own events (ringing, delivered) land first.
    await eventually(async () => {
      const v = await t.services.store.getVerification(pending.id);
      return v?.attempts[0]?.status === "delivered" ? true : undefined;
    });
  });
  afterAll(() => t.close());

  const phones: [string, unknown][] = [
    ["not E.164", "12345"],
    ["bare plus", "+"],
    ["too short", "+44 7400"],
    ["30 digits", `+${"4".repeat(30)}`],
    ["30 digits, no plus", "4".repeat(30)],
    ["Arabic-Indic digits", "+٤٤٧٤٠٠٢١٠٠٠٢"],
    ["full-width digits", "＋４４７４００２１０００２"],
    ["mixed full-width", "+44 7400 21０００2"],
    ["SQL injection", "+447400210002'; DROP TABLE verifications;--"],
    ["SQL tautology", "' OR '1'='1"],
    ["JSON injection string", '+447400210002","metadata":{"admin":true}'],
    ["JSON object as text", '{"phone":"+447400210002"}'],
    ["NUL byte inside", "+447400\u0000210002"],
    ["NUL byte alone", "\u0000"],
    ["RTL override", "+44740021\u202e0002"],
    ["emoji", "+44740021000😀"],
    ["phone as number", 447400210002],
    ["phone as array", ["+447400210002"]],
    ["phone as null", null],
    ["phone as object", { e164: "+447400210002" }],
  ];

  it("on POST /v1/verifications", async () => {
    const before = rowCounts(t);
    const tried: string[] = [];
    const send = async (label: string, payload: string | Record<string, unknown>, contentType = "application/json") => {
      const res = await t.app.inject({
        method: "POST",
        url: "/v1/verifications",
        headers: { ...auth(), "content-type": contentType },
        payload,
      });
      tried.push(`  ${label.padEnd(38)} -> ${res.statusCode} ${res.json().error?.code ?? ""}`);
      expect(res.statusCode, label).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, label).toBeLessThan(500);
    };
    for (const [label, phone] of phones) await send(`phone: ${label}`, { phone });
    await send("1 MB body", { phone: "+447400210002", reference: "x".repeat(MB) });
    await send("1 MB phone", { phone: "4".repeat(MB) });
    await send("deep JSON within 16 KiB (5,000 levels)", deepJson(5_000));
    await send("deep JSON (10,000 levels)", deepJson(10_000));
    await send("deep JSON (100,000 levels)", deepJson(100_000));
    await send("invalid JSON", '{"phone": "+447400210002"');
    await send("NUL in JSON text", '{"phone": "+447400210002"\u0000}');
    await send("__proto__ key", '{"phone":"+447400210002","__proto__":{"admin":true}}');
    await send("constructor.prototype", '{"phone":"+447400210002","constructor":{"prototype":{"admin":true}}}');
    await send("unknown field", { phone: "+447400210002", admin: true });
    await send("metadata with 21 keys", {
      phone: "+447400210002",
      metadata: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, i])),
    });
    await send("metadata nested object", { phone: "+447400210002", metadata: { a: { b: 1 } } });
    await send("client.ip not an IP", { phone: "+447400210002", client: { ip: "999.1.1.1" } });
    await send("client.ip SQL", { phone: "+447400210002", client: { ip: "1.1.1.1' OR 1=1" } });
    await send("client.device_id 200 chars", { phone: "+447400210002", client: { device_id: "d".repeat(200) } });
    await send("country hint lower-case", { phone: "07400210002", country: "gb" });
    await send("country hint SQL", { phone: "07400210002", country: "GB' --" });
    await send("form-encoded body", "phone=%2B447400210002", "application/x-www-form-urlencoded");
    console.log(`security: POST /v1/verifications, hostile inputs tried:\n${tried.join("\n")}`);
    expect(rowCounts(t)).toEqual(before);
    expect(t.services.sandbox?.handsets.calls("+447400210002")).toEqual([]);
  });

  it("on POST /v1/verifications/{id}/check, spending no check", async () => {
    const before = rowCounts(t);
    const tried: string[] = [];
    const codes: [string, unknown][] = [
      ["Arabic-Indic code", "١٢٣٤"],
      ["full-width code", "１２３４"],
      ["30 digits", "1".repeat(30)],
      ["SQL injection", "1234' OR '1'='1"],
      ["NUL byte", "12\u000034"],
      ["JSON injection", '1234","code":"0000'],
      ["code as number", 1234],
      ["code as array", ["1234"]],
      ["empty", ""],
      ["letters", "abcd"],
      ["caller ID with full-width digits", "+４４２０７９４１２３４５"],
    ];
    const send = async (label: string, id: string, payload: string | Record<string, unknown>) => {
      const res = await t.app.inject({
        method: "POST",
        url: `/v1/verifications/${id.includes("%") ? id : encodeURIComponent(id)}/check`,
        headers: { ...auth(pending.client_token), "content-type": "application/json" },
        payload,
      });
      tried.push(`  ${label.padEnd(38)} -> ${res.statusCode} ${res.json().error?.code ?? ""}`);
      expect(res.statusCode, label).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, label).toBeLessThan(500);
      expect(res.json().error.code, label).toMatch(/^[A-Z_]+$/);
    };
    for (const [label, code] of codes) await send(`code: ${label}`, pending.id, { code });
    await send("both code and caller_id", pending.id, { code: "1234", caller_id: "+442079412345" });
    await send("1 MB body", pending.id, { code: "1".repeat(MB) });
    await send("deep JSON within 16 KiB", pending.id, `{"code":${"[".repeat(5_000)}${"]".repeat(5_000)}}`);
    await send("deep JSON", pending.id, `{"code":${"[".repeat(50_000)}${"]".repeat(50_000)}}`);
    await send("id: malformed percent-encoding", "ver_%E0%A4%A", { code: "1234" });
    await send("id: SQL injection", "ver_' OR '1'='1", { code: "1234" });
    await send("id: NUL byte", "ver_\u0000", { code: "1234" });
    await send("id: 1 kB", `ver_${"a".repeat(1000)}`, { code: "1234" });
    console.log(`security: POST /v1/verifications/{id}/check, hostile inputs tried:\n${tried.join("\n")}`);
    expect(rowCounts(t)).toEqual(before);
    const read = await t.app.inject({ method: "GET", url: `/v1/verifications/${pending.id}`, headers: auth() });
    expect(read.json()).toMatchObject({ status: "pending", attempts_remaining: 3 });
  });

  it("on the admin lists", async () => {
    const before = rowCounts(t);
    const tried: string[] = [];
    const bodies: [string, unknown][] = [
      ["SQL in value", { type: "prefix", value: "+44'; DELETE FROM fraud_rules;--" }],
      ["NUL in value", { type: "number", value: "+447400\u0000210003" }],
      ["full-width number", { type: "number", value: "＋４４７４００２１０００３" }],
      ["30-digit prefix", { type: "prefix", value: `+${"4".repeat(30)}` }],
      ["negative expiry", { type: "prefix", value: "+4474", expires_in_seconds: -1 }],
      ["expiry as text", { type: "prefix", value: "+4474", expires_in_seconds: "60" }],
      ["reason 1 MB", { type: "prefix", value: "+4474", reason: "r".repeat(MB) }],
    ];
    for (const [label, payload] of bodies) {
      const res = await t.app.inject({
        method: "POST",
        url: "/v1/blocks",
        headers: auth(),
        payload: payload as object,
      });
      tried.push(`  ${label.padEnd(38)} -> ${res.statusCode} ${res.json().error?.code ?? ""}`);
      expect(res.statusCode, label).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, label).toBeLessThan(500);
    }
    const del = await t.app.inject({ method: "DELETE", url: "/v1/blocks/frd_' OR '1'='1", headers: auth() });
    tried.push(`  ${"DELETE with SQL in the id".padEnd(38)} -> ${del.statusCode} ${del.json().error?.code ?? ""}`);
    expect(del.statusCode).toBe(404);
    console.log(`security: /v1/blocks, hostile inputs tried:\n${tried.join("\n")}`);
    expect(rowCounts(t)).toEqual(before);
  });
});

describe("properties (fast-check)", () => {
  const nationalMobile = fc.stringMatching(/^7400[0-9]{6}$/);

  it("normalisation: every spelling of a number gives one E.164; nothing else gets through", () => {
    fc.assert(
      fc.property(nationalMobile, fc.constantFrom(" ", "-", "", "  ", "."), (national, sep) => {
        const e164 = `+44${national}`;
        const spaced = [national.slice(0, 4), national.slice(4)].join(sep);
        const spellings = [e164, `0044${national}`, `+44${sep}${spaced}`, `(0044) ${spaced}`];
        for (const s of spellings) expect(parseDestination(s)?.e164, s).toBe(e164);
        expect(parseDestination(`0${spaced}`, "GB")?.e164).toBe(e164);
      }),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.option(fc.constantFrom("GB", "US", "DE")), (text, hint) => {
        const parsed = parseDestination(text, hint ?? undefined);
        if (parsed) expect(parsed.e164).toMatch(/^\+[1-9][0-9]{5,14}$/);
      }),
      { numRuns: 2000 },
    );
    // A non-ASCII digit anywhere makes the number unreadable, however the rest looks.
    fc.assert(
      fc.property(nationalMobile, fc.nat(9), fc.constantFrom("٠", "０", "۰", "०"), (national, at, zero) => {
        const digit = String.fromCharCode(zero.charCodeAt(0) + Number(national[at]));
        const hostile = `+44${national.slice(0, at)}${digit}${national.slice(at + 1)}`;
        expect(parseDestination(hostile)).toBeUndefined();
      }),
    );
  });

  it("matching: a caller ID in any format reads as its prefix and last N digits; junk reads as nothing", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{5}$/), fc.integer({ min: 4, max: 5 }), (tail, n) => {
        const cli = `+4420794${tail}`;
        for (const reported of [cli, `00${cli.slice(1)}`, `0${cli.slice(3)}`, `+44 20 794${tail}`]) {
          expect(readReportedCli(reported, "GB", n), reported).toEqual({
            code: cli.slice(-n),
            prefix: cli.slice(0, -n),
          });
        }
        expect(readReportedCli(cli.slice(-n), "GB", n)).toEqual({ code: cli.slice(-n), prefix: null });
      }),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        const read = readReportedCli(text, "GB", 4);
        if (read) expect(read.code).toMatch(/^[0-9]{4}$/);
        if (/[^\x20-\x7e]/.test(text)) expect(read).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
  });

  it("the lifecycle: final states stay final, checks never exceed the maximum, only a right check verifies", () => {
    type Op =
      | { kind: "check"; right: boolean }
      | { kind: "ringing" }
      | { kind: "ended"; delivered: boolean }
      | { kind: "expire" }
      | { kind: "cancel" }
      | { kind: "tick"; ms: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant("check" as const), right: fc.boolean() }),
      fc.constant({ kind: "ringing" as const }),
      fc.record({ kind: fc.constant("ended" as const), delivered: fc.boolean() }),
      fc.constant({ kind: "expire" as const }),
      fc.constant({ kind: "cancel" as const }),
      fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: 0, max: 40_000 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), fc.integer({ min: 1, max: 5 }), (ops, maxChecks) => {
        let v = baseVerification(maxChecks);
        let now = v.createdAt;
        let verifiedEvents = 0;
        let rightChecks = 0;
        for (const o of ops) {
          const before = v;
          let next: Transition | undefined;
          if (o.kind === "tick") {
            now += o.ms;
            continue;
          }
          if (o.kind === "check") {
            if (isFinal(v)) continue;
            next = expire(v, now) ?? applyCheck(v, o.right, "+442079412345", now);
            if (o.right && !expire(v, now)) rightChecks++;
          } else if (o.kind === "ringing") next = markRinging(v, "att_1", now);
          else if (o.kind === "ended") {
            const outcome: AttemptOutcome = {
              at: now,
              delivered: o.delivered,
              reason: o.delivered ? "ringing_canceled" : "busy",
              sipCode: o.delivered ? 487 : 486,
            };
            next = markAttemptEnded(v, "att_1", outcome);
          } else if (o.kind === "expire") next = expire(v, now);
          else next = cancel(v, now);
          if (!next) continue;
          v = next.verification;
          verifiedEvents += next.events.filter((e) => e.type === "verification.verified").length;
          expect(v.version).toBeGreaterThan(before.version);
          if (isFinal(before)) expect(v.status).toBe(before.status);
          expect(v.checksUsed).toBeLessThanOrEqual(v.maxChecks);
        }
        expect(verifiedEvents).toBeLessThanOrEqual(1);
        if (v.status === "verified") expect(rightChecks).toBeGreaterThan(0);
      }),
      { numRuns: 1000 },
    );
  });
});

function baseVerification(maxChecks: number): Verification {
  const t0 = Date.UTC(2026, 10, 22, 12);
  return {
    id: "ver_1",
    applicationId: "app_default",
    phone: "+447400123456",
    country: "GB",
    status: "pending",
    reason: null,
    reference: null,
    metadata: null,
    client: null,
    clientTokenHash: "h",
    maxChecks,
    checksUsed: 0,
    guessProbability: maxChecks / 10_000,
    risk: null,
    verifiedCallerId: null,
    createdAt: t0,
    updatedAt: t0,
    expiresAt: t0 + 60_000,
    endedAt: null,
    version: 1,
    attempts: [
      {
        id: "att_1",
        verificationId: "ver_1",
        seq: 1,
        channel: "flashcall",
        status: "dialing",
        reason: null,
        sipCode: null,
        poolId: "pool_default",
        cliKey: "k",
        cliPrefix: "+44207941",
        codeLength: 4,
        codeMac: "m",
        createdAt: t0,
        dialedAt: t0,
        ringingAt: null,
        endedAt: null,
        trunkId: null,
        invitedAt: null,
        reasonHeader: null,
        expiresAt: t0 + 60_000,
        detail: null,
        cost: null,
      },
    ],
    workflow: [{ channel: "flashcall", timeoutMs: 60_000 }],
    step: 0,
    stepDeadline: null,
    email: null,
  };
}

describe("checks under attack", () => {
  it("50 concurrent correct checks of one verification: exactly one success and one verified event", async () => {
    const t = await createTestApp();
    try {
      const phone = "+447400220001";
      const started = (
        await t.app.inject({ method: "POST", url: "/v1/verifications", headers: auth(), payload: { phone } })
      ).json();
      const cli = await missedCallFrom(t, phone);
      const answers = await Promise.all(
        Array.from({ length: 50 }, () =>
          t.app.inject({
            method: "POST",
            url: `/v1/verifications/${started.id}/check`,
            headers: auth(started.client_token),
            payload: { caller_id: cli },
          }),
        ),
      );
      const verified = answers.filter((a) => a.statusCode === 200 && a.json().status === "verified");
      const tally = new Map<string, number>();
      for (const a of answers) {
        const key = `${a.statusCode} ${a.json().status ?? a.json().error.code}`;
        tally.set(key, (tally.get(key) ?? 0) + 1);
      }
      console.log(`security: 50 concurrent correct checks -> ${JSON.stringify(Object.fromEntries(tally))}`);
      expect(verified).toHaveLength(1);
      expect(answers.filter((a) => a.statusCode === 409)).toHaveLength(49);
      const events = await t.services.store.listEvents(started.id);
      expect(events.filter((e) => e.type === "verification.verified")).toHaveLength(1);
    } finally {
      await t.close();
    }
  });

  it("a brute force of the whole code space never verifies the number, and locks it", async () => {
    // Check rate limits out of reach, so every one of the 10,000 guesses reaches the verification itself; the
    // failure budget and the per-verification check count are the defaults.
    const t = await createTestApp({
      ...DEFAULT_FRAUD_SETTINGS,
      FRAUD_CHECK_LIMITS: "destination=100000/10m,ip=100000/10m",
    });
    try {
      const phone = "+447400230001";
      const started = (
        await t.app.inject({ method: "POST", url: "/v1/verifications", headers: auth(), payload: { phone } })
      ).json();
      const right = (await missedCallFrom(t, phone)).slice(-4);
      // The attacker's order: every code once, the right one just after the verification's own check budget.
      const others = Array.from({ length: 10_000 }, (_, i) => String(i).padStart(4, "0")).filter((c) => c !== right);
      const order = [...others.slice(0, 3), right, ...others.slice(3)];
      const tally = new Map<string, number>();
      for (let i = 0; i < order.length; i += 250) {
        const answers = await Promise.all(
          order.slice(i, i + 250).map((code) =>
            t.app.inject({
              method: "POST",
              url: `/v1/verifications/${started.id}/check`,
              headers: auth(started.client_token),
              payload: { code },
            }),
          ),
        );
        for (const a of answers) {
          const key = `${a.statusCode} ${a.json().status ?? a.json().error.code}`;
          tally.set(key, (tally.get(key) ?? 0) + 1);
        }
      }
      console.log(
        `security: brute force of 10,000 codes against one verification -> ${JSON.stringify(Object.fromEntries(tally))}`,
      );
      expect(tally.get("200 verified")).toBeUndefined();
      const read = await t.app.inject({ method: "GET", url: `/v1/verifications/${started.id}`, headers: auth() });
      expect(read.json()).toMatchObject({ status: "failed", reason: "max_checks", verified_caller_id: null });

      // New verifications keep spending the number's failure budget; once it is spent, starts are refused.
      let starts = 1;
      for (;;) {
        const res = await t.app.inject({
          method: "POST",
          url: "/v1/verifications",
          headers: auth(),
          payload: { phone },
        });
        if (res.statusCode !== 201) {
          expect(res.json().error.details).toEqual({ limit: "check_failures" });
          break;
        }
        starts++;
        const v = res.json();
        for (let i = 0; i < 3; i++) {
          const code = String((Number(right) + 1 + i) % 10_000).padStart(4, "0");
          const a = await t.app.inject({
            method: "POST",
            url: `/v1/verifications/${v.id}/check`,
            headers: auth(v.client_token),
            payload: { code },
          });
          expect(a.json().status).not.toBe("verified");
        }
      }
      console.log(`security: after the brute force, ${starts} verifications were started before the number locked`);
      expect(starts).toBeLessThanOrEqual(4);
    } finally {
      await t.close();
    }
    // 10,000 checks: a minute leaves room for a machine shared with other work.
  }, 60_000);

  // Spellings of one number: a verification each, each from another client address. Eight checks each make the
  // checks of one verification wait on each other, as they do on a busier server: 8 + 7 checks, the last right.
  const SPELLINGS = (n: string) => [`+44${n}`, `+44 ${n}`];
  const scaled = postgresAvailable() && redisAvailable();
  for (const backend of ["memory", "sqlite", "postgres+redis"]) {
    it.skipIf(backend === "postgres+redis" && !scaled)(
      `the failure budget holds when checks arrive together (held-back last bytes; ${backend})`,
      async () => {
        const schema = backend === "postgres+redis" ? await testSchema() : undefined;
        const env: Record<string, string> = schema
          ? {
              DATABASE_URL: `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema.name}`)}`,
              REDIS_URL,
              REDIS_PREFIX: `fv_test_${schema.name}`,
            }
          : { FRAUD_LIMITER: backend };
        const t = await createTestApp({
          ...DEFAULT_FRAUD_SETTINGS,
          ...env,
          FLASHCALL_MAX_CHECKS: "8",
          SANDBOX_SIP_ADDRESS: "127.0.0.103",
        });
        try {
          await t.app.listen({ host: "127.0.0.102", port: 0 });
          const port = (t.app.server.address() as { port: number }).port;
          const number = `74002500${String(["memory", "sqlite"].indexOf(backend) + 11)}`;
          const race = await raceFailureBudget(t, { host: "127.0.0.102", port }, SPELLINGS(number));
          console.log(
            `security: failure budget race (${backend}): ${race.sent} checks sent together, ${race.counted} counted ` +
              `against a budget of ${race.budget}, ${race.verified} verified past the budget -> ${JSON.stringify(race.answers)}`,
          );
          expect(race.sent).toBe(15);
          expect(race.verified).toBe(0);
          expect(race.counted).toBe(race.sent);
        } finally {
          await t.close();
          await schema?.drop();
        }
      },
    );
  }

  it("an unknown id answers like another application's; a locked number's right code like a wrong code", async () => {
    const t = await createTestApp({ FRAUD_CHECK_FAILURES: "1/24h" });
    try {
      await t.services.store.ensureApplication({ id: "app_other", name: "other", createdAt: 0 });
      const otherKey = "fv_other_key_0123456789abcdef";
      await t.services.apiKeys.register("app_other", otherKey, "test");
      const samples = 20;
      const started = await Promise.all(
        Array.from({ length: samples }, async (_, i) => {
          const phone = `+4474002400${String(i).padStart(2, "0")}`;
          const res = await t.app.inject({
            method: "POST",
            url: "/v1/verifications",
            headers: auth(),
            payload: { phone },
          });
          return { ...(res.json() as { id: string }), phone, cli: await missedCallFrom(t, phone) };
        }),
      );
      const timed = async (run: () => Promise<{ statusCode: number; body: string }>) => {
        const t0 = process.hrtime.bigint();
        const res = await run();
        return { ms: Number(process.hrtime.bigint() - t0) / 1e6, res };
      };
      const strip = (body: string) => {
        const json = JSON.parse(body);
        if (json.error) json.error.request_id = "";
        if (json.id) json.id = "";
        return json;
      };
      const post = (id: string, code: string, key?: string) => () =>
        t.app.inject({ method: "POST", url: `/v1/verifications/${id}/check`, headers: auth(key), payload: { code } });
      const results: Record<string, { ms: number; res: { statusCode: number; body: string } }[]> = {
        "unknown id": [],
        "another application's id": [],
        "wrong code": [],
        "locked number, right code": [],
      };
      for (const s of started) {
        const wrong = String((Number(s.cli.slice(-4)) + 1) % 10_000).padStart(4, "0");
        const unknownId = `${s.id.slice(0, -1)}${s.id.endsWith("x") ? "y" : "x"}`;
        results["unknown id"]?.push(await timed(post(unknownId, wrong)));
        results["another application's id"]?.push(await timed(post(s.id, wrong, otherKey)));
        results["wrong code"]?.push(await timed(post(s.id, wrong)));
        results["locked number, right code"]?.push(await timed(post(s.id, s.cli.slice(-4))));
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
      const lines = Object.entries(results).map(
        ([name, rs]) =>
          `  ${name.padEnd(28)} ${rs[0]?.res.statusCode} ${rs[0]?.res.body.slice(0, 70).padEnd(70)} median ${median(rs.map((r) => r.ms)).toFixed(2)} ms`,
      );
      console.log(`security: what a check answers (${samples} samples each):\n${lines.join("\n")}`);
      const [unknown, other, wrongCode, locked] = Object.values(results);
      for (let i = 0; i < samples; i++) {
        expect(strip(unknown?.[i]?.res.body ?? "")).toEqual(strip(other?.[i]?.res.body ?? ""));
        expect(unknown?.[i]?.res.statusCode).toBe(404);
        const w = strip(wrongCode?.[i]?.res.body ?? "");
        const l = strip(locked?.[i]?.res.body ?? "");
        expect({ ...l, attempts_remaining: 0 }).toEqual({ ...w, attempts_remaining: 0 });
        expect(l.attempts_remaining).toBe(w.attempts_remaining - 1);
      }
    } finally {
      await t.close();
    }
  });
});
