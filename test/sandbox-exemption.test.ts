/**
 * The sandbox's test numbers are exempt from the start limits, the risk score and the pumping detector, with every
 * fraud default as shipped, and only while SANDBOX=on: a newcomer can try each of them several times in a row from
 * one address, while a real number from the same address keeps every limit. With the sandbox off the same numbers
 * are ordinary numbers.
 */
import { afterEach, describe, expect, it } from "vitest";
import { TEST_NUMBERS } from "../src/sandbox/test-numbers.js";
import { createTestApp, DEFAULT_FRAUD_SETTINGS, TEST_KEY, type TestApp } from "./support/test-app.js";

const ADDRESS = "127.0.0.123";
const apps: TestApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function open(env: Record<string, string> = {}): Promise<TestApp> {
  const t = await createTestApp({
    ...DEFAULT_FRAUD_SETTINGS,
    SANDBOX_SIP_ADDRESS: ADDRESS,
    SIP_LOCAL_ADDRESS: ADDRESS,
    ...env,
  });
  apps.push(t);
  return t;
}

const demoStart = (t: TestApp, phone: string, fallback = "sms") =>
  t.app.inject({
    method: "POST",
    url: "/demo/api/verifications",
    payload: { phone, fallback, ...(fallback === "email" ? { email: "you@example.com" } : {}) },
  });

describe("the sandbox's test numbers", () => {
  it("start three times each in a row from one address, with no refusal and no risk factors", async () => {
    const t = await open();
    const answers: string[] = [];
    for (let round = 0; round < 3; round++) {
      for (const n of TEST_NUMBERS) {
        const res = await demoStart(t, n.phone, n.name === "Landline" ? "email" : "sms");
        answers.push(`${n.name}: ${res.statusCode}${res.statusCode === 201 ? "" : ` ${res.body}`}`);
      }
    }
    expect(answers).toEqual(
      Array(3)
        .fill(TEST_NUMBERS.map((n) => `${n.name}: 201`))
        .flat(),
    );
    const list = await t.app.inject({
      url: "/v1/verifications?limit=100",
      headers: { authorization: `Bearer ${TEST_KEY}` },
    });
    const risks = (list.json().data as { risk: { outcome: string; reasons: string[] } | null }[]).map((v) => v.risk);
    expect(risks).toHaveLength(TEST_NUMBERS.length * 3);
    for (const risk of risks) expect(risk).toMatchObject({ outcome: "allow", reasons: ["sandbox test number"] });
  });

  it("include every number of the test ranges (drops flash calls, late calls), not only the listed one", async () => {
    const t = await open();
    const codes: number[] = [];
    for (let i = 0; i < 8; i++) codes.push((await demoStart(t, "+447520987654")).statusCode);
    for (let i = 0; i < 8; i++) codes.push((await demoStart(t, "+447530987654")).statusCode);
    expect(codes).toEqual(Array(16).fill(201));
  });

  it("leave a real number from the same address every limit: the sixth start to it is refused", async () => {
    const t = await open();
    for (const n of TEST_NUMBERS) expect((await demoStart(t, n.phone, "email")).statusCode).toBe(201);
    const real = "+447400555019";
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) codes.push((await demoStart(t, real)).statusCode);
    expect(codes).toEqual([201, 201, 201, 201, 201, 429]);
    const refused = await demoStart(t, real);
    expect(refused.json().error).toMatchObject({ code: "RATE_LIMITED", details: { limit: "destination" } });
  });

  it("are ordinary numbers with the sandbox off", async () => {
    const t = await open({ SANDBOX: "off", SIP_TRUNK_HOST: ADDRESS, POOL_NUMBERS: "+44207946xxxx" });
    const phone = TEST_NUMBERS[0]?.phone as string;
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await t.app.inject({
        method: "POST",
        url: "/v1/verifications",
        headers: { authorization: `Bearer ${TEST_KEY}` },
        payload: { phone },
      });
      codes.push(res.statusCode);
    }
    expect(codes).toEqual([201, 201, 201, 201, 201, 429]);
  });
});
