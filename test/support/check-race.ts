/**
 * The held-back-byte race against a number's failure budget: verifications of one number, each started from
 * another client address, then every check they allow sent on a socket of its own with its last byte held back,
 * and all the last bytes written in one go, wrong codes first and the right code of the last verification last.
 * Whatever the server does, the right code arrives after the budget's worth of wrong ones.
 */
import { connect, type Socket } from "node:net";
import { expect } from "vitest";
import { auth, eventually, type TestApp } from "./test-app.js";

export interface RaceResult {
  /** checks sent together */
  sent: number;
  /** places of the number's failure budget taken after the race */
  counted: number;
  /** the budget */
  budget: number;
  /** checks answered `verified` */
  verified: number;
  /** the answers, `status code` and status or error code, with how many of each */
  answers: Record<string, number>;
}

const newestCall = (t: TestApp, phone: string, count: number) =>
  eventually(() => {
    const calls = t.services.sandbox?.handsets.calls(phone) ?? [];
    return calls.length >= count && calls[0]?.result === "missed" ? calls[0].from : undefined;
  });

/** Sends `raw` but its last byte; resolves with the socket once the rest is written. */
function holdBack(host: string, port: number, raw: Buffer): Promise<{ socket: Socket; response: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port }, () => {
      socket.write(raw.subarray(0, raw.length - 1), () => resolve({ socket, response }));
    });
    const chunks: Buffer[] = [];
    const response = new Promise<string>((done) => {
      socket.on("data", (chunk: Buffer) => chunks.push(chunk));
      socket.on("close", () => done(Buffer.concat(chunks).toString("utf8")));
    });
    socket.on("error", reject);
  });
}

/**
 * Starts `spellings.length` verifications of one number (its spellings, e.g. `+44 7400 ...`, `447400...`) and races
 * `count` checks, the right code last. `host`/`port`: where the app listens.
 */
export async function raceFailureBudget(
  t: TestApp,
  where: { host: string; port: number },
  spellings: string[],
  count = 15,
): Promise<RaceResult> {
  const started: { id: string; token: string; code: string; checks: number }[] = [];
  for (const [i, phone] of spellings.entries()) {
    const res = await t.app.inject({
      method: "POST",
      url: "/v1/verifications",
      headers: auth(),
      payload: { phone, client: { ip: `198.51.100.${i + 1}` } },
    });
    expect(res.statusCode, res.body).toBe(201);
    const v = res.json();
    const cli = await newestCall(t, v.phone, i + 1);
    started.push({ id: v.id, token: v.client_token, code: cli.slice(-4), checks: v.verification.attempts_remaining });
    expect(v.verification.attempts_remaining).toBeGreaterThan(0);
  }
  const wrong = (code: string, n: number) => String((Number(code) + n) % 10_000).padStart(4, "0");
  // `count` - 1 wrong codes, as many as each verification allows in order, then the last one's right code.
  const checks: { id: string; token: string; code: string }[] = [];
  for (const v of started) {
    for (let n = 1; n <= v.checks && checks.length < count - 1; n++) checks.push({ ...v, code: wrong(v.code, n) });
  }
  const last = started.at(-1);
  if (!last || checks.filter((c) => c.id === last.id).length >= last.checks)
    throw new Error("no check left for the right code");
  checks.push({ ...last });
  const held = await Promise.all(
    checks.map(({ id, token, code }) => {
      const body = JSON.stringify({ code });
      const raw = Buffer.from(
        `POST /v1/verifications/${id}/check HTTP/1.1\r\nHost: ${where.host}\r\nAuthorization: Bearer ${token}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      return holdBack(where.host, where.port, raw);
    }),
  );
  // Everything but the last bytes has arrived; release them all in one go.
  await new Promise((resolve) => setTimeout(resolve, 100));
  for (const { socket } of held) socket.write(Buffer.from("}"));
  const answers: Record<string, number> = {};
  let verified = 0;
  for (const { response } of held) {
    const text = await response;
    if (!text.includes("\r\n\r\n")) throw new Error(`no HTTP answer: ${JSON.stringify(text)}`);
    const status = text.slice(9, 12);
    const json = JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4));
    const key = `${status} ${json.status ?? json.error?.code}`;
    answers[key] = (answers[key] ?? 0) + 1;
    if (json.status === "verified") verified++;
  }
  const phone = (await t.services.store.getVerification(started[0]?.id ?? ""))?.phone ?? "";
  const fraud = t.services.fraud;
  const counted = await fraud.checkFailures("app_default", phone);
  const budget = fraud.settings.policyFor("app_default").checkFailures.points;
  return { sent: checks.length, counted, budget, verified, answers };
}
