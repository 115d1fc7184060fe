/**
 * The Viber channel against a stand-in that answers as Viber does. Viber numbers its messages with 64-bit integers
 * (`"message_token": 5741311803571721087`), in the send's answer and in the signed delivery callbacks: two messages
 * whose tokens differ only in their last digits stay two, each callback through POST /v1/receipts/viber ending its
 * own message's attempt. And a message's TTL is no longer than its code's life, so Viber gives up when it expires.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { viberSignature } from "../src/channels/viber/index.js";
import { auth, createTestApp, eventually, type TestApp } from "./support/test-app.js";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read field by field and asserted, not trusted
type Json = Record<string, any>;

const VIBER_TOKEN = "viber-account-token";
const RECEIPTS_TOKEN = "receipts_token_0123456789";
/** consecutive tokens beyond 2^53: as doubles they are one number */
const TOKENS = ["5741311803571721087", "5741311803571721088"];
let nextToken = 5741311803571721089n;

let viber: Server;
let t: TestApp;
const sent: string[] = [];
const ttls = new Map<string, number>();

beforeAll(async () => {
  viber = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const message = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      sent.push(message.receiver);
      ttls.set(message.receiver, message.ttl);
      response.writeHead(200, { "content-type": "application/json" });
      // Written as Viber writes it: a bare number, not a string.
      response.end(`{"status":0,"status_message":"ok","message_token":${TOKENS[sent.length - 1] ?? nextToken++}}`);
    });
  });
  await new Promise<void>((resolve) => viber.listen(0, "127.0.0.83", resolve));
  const { port } = viber.address() as AddressInfo;
  t = await createTestApp({
    VIBER_AUTH_TOKEN: VIBER_TOKEN,
    VIBER_BASE_URL: `http://127.0.0.83:${port}/pa`,
    RECEIPTS_TOKEN,
  });
});
afterAll(async () => {
  await t.close();
  viber.closeAllConnections();
  await new Promise((resolve) => viber.close(resolve));
});

const start = async (phone: string, timeout?: number): Promise<Json> => {
  const res = await t.app.inject({
    method: "POST",
    url: "/v1/verifications",
    headers: auth(),
    payload: { phone, workflow: [{ channel: "viber", timeout }] },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
};

const attempt = async (id: string): Promise<Json> =>
  (await t.app.inject({ url: `/v1/verifications/${id}`, headers: auth() })).json().attempts[0];

const callback = (raw: string) =>
  t.app.inject({
    method: "POST",
    url: `/v1/receipts/viber/${RECEIPTS_TOKEN}`,
    headers: { "content-type": "application/json", "x-viber-content-signature": viberSignature(raw, VIBER_TOKEN) },
    payload: raw,
  });

it("keeps messages whose 64-bit tokens differ in their last digits apart", async () => {
  const first = await start("+447400191001");
  await eventually(() => (sent.length === 1 ? true : undefined));
  const second = await start("+447400191002");
  await eventually(async () => ((await attempt(second.id)).status === "sent" ? true : undefined));
  expect((await attempt(first.id)).status).toBe("sent");

  const failed = await callback(`{"event":"failed","message_token":${TOKENS[0]},"desc":"Message undeliverable"}`);
  expect(failed.statusCode, failed.body).toBe(204);
  const delivered = await callback(`{"event":"delivered","message_token":${TOKENS[1]}}`);
  expect(delivered.statusCode, delivered.body).toBe(204);

  const [a, b] = await eventually(async () => {
    const both = [await attempt(first.id), await attempt(second.id)];
    return both.every((x) => x.status !== "sent") ? both : undefined;
  });
  expect(a).toMatchObject({ status: "failed", reason: "undeliverable" });
  expect(b).toMatchObject({ status: "delivered", reason: "delivered" });
});

it("gives Viber no longer than the code lives (VIBER_TTL_SECONDS 120), and never under Viber's 30 s", async () => {
  await start("+447400191003", 45);
  await start("+447400191004", 10);
  await start("+447400191005");
  const ttl = (phone: string) => eventually(() => ttls.get(phone));
  expect(await ttl("+447400191003")).toBeGreaterThanOrEqual(44);
  expect(await ttl("+447400191003")).toBeLessThanOrEqual(45);
  expect(await ttl("+447400191004")).toBe(30);
  expect(await ttl("+447400191005")).toBe(120);
});
