/**
 * The HTTP text channels against servers speaking their providers' protocols: Twilio's Messages API (a local
 * server, since the real one is out of reach), WhatsApp Cloud API (the sandbox's), and email over SMTP (the
 * sandbox inbox, built on the smtp-server package).
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmailSender } from "../src/channels/email/index.js";
import { parseProviderJson } from "../src/channels/http-provider.js";
import type { MessageOutcome, MessageSender } from "../src/channels/message-channel.js";
import { createHttpSmsSender } from "../src/channels/sms-http/index.js";
import { createTwilioSmsSender } from "../src/channels/sms-http/twilio.js";
import { createViberSender, verifyViberSignature, viberSignature } from "../src/channels/viber/index.js";

const viberSignatureOf = (raw: string) => viberSignature(raw, "viber-test-token");

import { createWhatsAppSender, verifyWhatsAppSignature } from "../src/channels/whatsapp/index.js";
import { VirtualInbox } from "../src/sandbox/inbox.js";
import { VirtualViber } from "../src/sandbox/viber.js";
import { VirtualWhatsApp } from "../src/sandbox/whatsapp.js";

interface Sent {
  accepted: string[] | null;
  outcome: MessageOutcome;
}

let attempt = 0;
/** The message's end; `accepted` settles when the provider took it (receipts before that find nothing to settle). */
function send(
  sender: MessageSender,
  to: string,
  code: string,
  text = `Your code is ${code}`,
): Promise<Sent> & { accepted: Promise<string[]> } {
  let took: (ids: string[]) => void = () => {};
  let never: (outcome: MessageOutcome) => void = () => {};
  const accepted = new Promise<string[]>((resolve, reject) => {
    took = resolve;
    never = (outcome) => reject(new Error(`ended before it was accepted: ${JSON.stringify(outcome)}`));
  });
  accepted.catch(() => {}); // read only by the tests that wait for it
  const ended = new Promise<Sent>((resolve) => {
    let ids: string[] | null = null;
    sender.send(
      { attemptId: `att_${++attempt}`, to, code, text },
      {
        accepted: (_at, given) => {
          ids = given;
          took(given);
        },
        ended: (outcome) => {
          if (ids === null) never(outcome);
          resolve({ accepted: ids, outcome });
        },
      },
    );
  });
  return Object.assign(ended, { accepted });
}

async function listen(server: Server, address: string): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  return `http://${address}:${(server.address() as AddressInfo).port}`;
}

async function body(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

describe("SMS over Twilio's Messages API", () => {
  const requests: Array<{ url: string; authorization: string | undefined; form: URLSearchParams }> = [];
  let server: Server;
  let baseUrl: string;

  beforeAll(async () => {
    server = createServer(async (request, response) => {
      const form = new URLSearchParams(await body(request));
      requests.push({ url: request.url ?? "", authorization: request.headers.authorization, form });
      const to = form.get("To") ?? "";
      if (to.endsWith("0400")) {
        response.writeHead(400, { "content-type": "application/json" });
        response.end(JSON.stringify({ code: 21211, message: "Invalid 'To' Phone Number", status: 400 }));
      } else if (to.endsWith("0500")) {
        response.writeHead(503).end();
      } else if (to.endsWith("0408")) {
        // never answers: the request may have been taken, so the outcome is unknown
      } else {
        response.writeHead(201, { "content-type": "application/json" });
        response.end(JSON.stringify({ sid: `SM${requests.length.toString().padStart(32, "0")}`, status: "queued" }));
      }
    });
    baseUrl = await listen(server, "127.0.0.82");
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const twilio = () =>
    createTwilioSmsSender({
      baseUrl,
      accountSid: "AC0123",
      authToken: "tok",
      from: "+15005550006",
      statusCallbackUrl: "https://verify.example/hooks/sms",
      // Long enough for a loaded machine's loopback answer, short enough for the silent number's test.
      timeoutMs: 2000,
    });

  it("posts Twilio's form with Basic auth and follows the status callback to delivered", async () => {
    const sms = twilio();
    const pending = send(sms, "+447400123456", "123456");
    await expect.poll(() => requests.length).toBe(1);
    const [request] = requests;
    expect(request?.url).toBe("/2010-04-01/Accounts/AC0123/Messages.json");
    expect(request?.authorization).toBe(`Basic ${Buffer.from("AC0123:tok").toString("base64")}`);
    expect(Object.fromEntries(request?.form ?? [])).toEqual({
      To: "+447400123456",
      From: "+15005550006",
      Body: "Your code is 123456",
      StatusCallback: "https://verify.example/hooks/sms",
    });
    await pending.accepted;
    expect(sms.handleReceipt?.({ MessageSid: "SM00000000000000000000000000000001", MessageStatus: "sent" })).toBe(true);
    sms.handleReceipt?.({ MessageSid: "SM00000000000000000000000000000001", MessageStatus: "delivered" });
    const sent = await pending;
    expect(sent.accepted).toEqual(["SM00000000000000000000000000000001"]);
    expect(sent.outcome).toMatchObject({ delivered: true, reason: "delivered" });
    await sms.close();
  });

  it("sorts refusals, outages and silence apart, so only a definite answer counts as not sent", async () => {
    const sms = twilio();
    const [refused, down, silent] = await Promise.all([
      send(sms, "+447400120400", "1"),
      send(sms, "+447400120500", "1"),
      send(sms, "+447400120408", "1"),
    ]);
    expect(refused.outcome).toMatchObject({ reason: "rejected" });
    expect(refused.outcome.detail).toContain("21211");
    expect(down.outcome).toMatchObject({ reason: "network_error", detail: "HTTP 503: " });
    expect(silent.outcome).toMatchObject({ reason: "submit_unknown" });
    await sms.close();
  });

  it("reports an undelivered status with Twilio's error code", async () => {
    const sms = twilio();
    const pending = send(sms, "+447400123457", "1");
    await expect.poll(() => requests.at(-1)?.form.get("To")).toBe("+447400123457");
    const id = `SM${requests.length.toString().padStart(32, "0")}`;
    expect(await pending.accepted).toEqual([id]);
    expect(sms.handleReceipt?.({ MessageSid: id, MessageStatus: "undelivered", ErrorCode: "30003" })).toBe(true);
    expect((await pending).outcome).toMatchObject({ reason: "undeliverable", detail: "undelivered (30003)" });
    await sms.close();
  });
});

describe("SMS over a JSON gateway that numbers its messages", () => {
  let server: Server;
  let baseUrl: string;
  let next = 4711;
  beforeAll(async () => {
    server = createServer(async (request, response) => {
      await body(request);
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ messages: [{ id: next++, status: 0 }] }));
    });
    baseUrl = await listen(server, "127.0.0.82");
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("matches its numeric ids and states in the delivery reports it posts back", async () => {
    const sms = createHttpSmsSender({
      url: `${baseUrl}/send`,
      body: { to: "{{to_digits}}", text: "{{text}}" },
      from: "Acme",
      responseIdPath: "messages.0.id",
      receipt: { idPath: "message_id", statusPath: "status", delivered: ["1"], failed: ["2"], errorPath: "error" },
    });
    const delivered = send(sms, "+447400123458", "1");
    const failed = send(sms, "+447400123459", "1");
    const [[deliveredId], [failedId]] = await Promise.all([delivered.accepted, failed.accepted]);
    // JSON as the gateway posts it: numbers, not strings.
    expect(sms.handleReceipt?.(JSON.parse(`{"message_id": ${deliveredId}, "status": 1}`))).toBe(true);
    expect(sms.handleReceipt?.(JSON.parse(`{"message_id": ${failedId}, "status": 2, "error": 34}`))).toBe(true);
    expect((await delivered).outcome).toMatchObject({ delivered: true, reason: "delivered" });
    expect((await failed).outcome).toMatchObject({ delivered: false, reason: "undeliverable", detail: "2 (34)" });
    await sms.close();
  });
});

describe("WhatsApp authentication templates against the sandbox Cloud API", () => {
  let whatsapp: VirtualWhatsApp;
  let receiver: Server;
  let sender: MessageSender;
  const signatures: boolean[] = [];

  beforeAll(async () => {
    whatsapp = await VirtualWhatsApp.create({ address: "127.0.0.83", port: 0, statusDelayMs: 10 });
    receiver = createServer(async (request, response) => {
      const raw = await body(request);
      signatures.push(
        verifyWhatsAppSignature(raw, request.headers["x-hub-signature-256"] as string, whatsapp.appSecret),
      );
      sender.handleReceipt?.(JSON.parse(raw));
      response.writeHead(200).end();
    });
    whatsapp.setWebhookUrl(`${await listen(receiver, "127.0.0.84")}/hooks/whatsapp`);
    sender = createWhatsAppSender({
      baseUrl: whatsapp.baseUrl,
      phoneNumberId: "1234567890",
      accessToken: whatsapp.accessToken,
      templateName: "verification_code",
    });
  });
  afterAll(async () => {
    await sender.close();
    await whatsapp.close();
    receiver.closeAllConnections();
    await new Promise((resolve) => receiver.close(resolve));
  });

  it("delivers the code to the handset and hears the signed delivered status", async () => {
    const sent = await send(sender, "+447400123456", "482913");
    expect(sent.accepted?.[0]).toMatch(/^wamid\./);
    expect(sent.outcome).toMatchObject({ delivered: true, reason: "delivered" });
    expect(whatsapp.messages("+447400123456")[0]).toMatchObject({
      channel: "whatsapp",
      text: expect.stringContaining("482913"),
    });
    expect(signatures.length).toBeGreaterThan(0);
    expect(signatures.every(Boolean)).toBe(true);
  });

  it("reports a refused number and a failed status", async () => {
    const refused = await send(sender, "+447400120499", "1");
    expect(refused.outcome).toMatchObject({ reason: "rejected" });
    expect(refused.outcome.detail).toContain("131030");
    const failed = await send(sender, "+447400120498", "1");
    expect(failed.accepted).toHaveLength(1);
    expect(failed.outcome).toMatchObject({ reason: "undeliverable", detail: "131026: Message undeliverable" });
  });

  it("settles a well-formed status beside parts of other shapes in the same post", async () => {
    // A Cloud API of its own with no webhook: the statuses this test hands over are the only ones.
    const quiet = await VirtualWhatsApp.create({ address: "127.0.0.83", port: 0 });
    const own = createWhatsAppSender({
      baseUrl: quiet.baseUrl,
      phoneNumberId: "1234567890",
      accessToken: quiet.accessToken,
      templateName: "verification_code",
    });
    try {
      const pending = send(own, "+447400123460", "1");
      const [id] = await pending.accepted;
      const value = { statuses: [null, 3, { id: 5 }, { id, status: "delivered" }] };
      const post = { object: "whatsapp_business_account", entry: [null, { changes: [1, { value }] }] };
      expect(own.handleReceipt?.(post)).toBe(true);
      expect((await pending).outcome).toMatchObject({ delivered: true, reason: "delivered" });
    } finally {
      await own.close();
      await quiet.close();
    }
  });

  it("refuses a wrong access token", async () => {
    const wrong = createWhatsAppSender({
      baseUrl: whatsapp.baseUrl,
      phoneNumberId: "1234567890",
      accessToken: "nope",
      templateName: "verification_code",
    });
    expect((await send(wrong, "+447400123456", "1")).outcome).toMatchObject({ reason: "rejected" });
    await wrong.close();
  });
});

describe("Viber OTP against the sandbox's Viber Business Messages stand-in", () => {
  let viber: VirtualViber;
  let receiver: Server;
  let sender: MessageSender;
  const signatures: boolean[] = [];
  const callbacks: string[] = [];

  beforeAll(async () => {
    receiver = createServer(async (request, response) => {
      const raw = await body(request);
      signatures.push(
        verifyViberSignature(raw, request.headers["x-viber-content-signature"] as string, "viber-test-token"),
      );
      callbacks.push(raw);
      // As the receipts route reads it: Viber's 64-bit tokens kept exact.
      sender.handleReceipt?.(parseProviderJson(raw) as Record<string, unknown>);
      response.writeHead(200).end();
    });
    const webhookUrl = `${await listen(receiver, "127.0.0.191")}/hooks/viber`;
    viber = await VirtualViber.create({
      address: "127.0.0.190",
      authToken: "viber-test-token",
      webhookUrl,
      statusDelayMs: 10,
    });
    sender = createViberSender({ baseUrl: viber.baseUrl, authToken: viber.authToken, sender: "Acme", ttlSeconds: 60 });
  });
  afterAll(async () => {
    await sender.close();
    await viber.close();
    receiver.closeAllConnections();
    await new Promise((resolve) => receiver.close(resolve));
  });

  it("delivers the text to the handset under the sender name and hears the signed delivered callback", async () => {
    const sent = await send(sender, "+447400123456", "482913", "Your Acme code is 482913");
    expect(sent.accepted?.[0]).toMatch(/^\d+$/);
    expect(sent.outcome).toMatchObject({ delivered: true, reason: "delivered", detail: "delivered" });
    expect(viber.messages("+447400123456")[0]).toMatchObject({
      channel: "viber",
      from: "Acme",
      text: "Your Acme code is 482913",
    });
    expect(signatures).toEqual([true]);
  });

  it("numbers messages as Viber does, bare integers beyond 2^53 that stay apart when read exactly", async () => {
    const answer = await fetch(`${viber.baseUrl}/send_message`, {
      method: "POST",
      headers: { "x-viber-auth-token": viber.authToken, "content-type": "application/json" },
      body: JSON.stringify({ receiver: "+447400123457", type: "text", text: "1", sender: { name: "Acme" }, ttl: 60 }),
    });
    const text = await answer.text();
    const literal = /"message_token":(\d+)[,}]/.exec(text)?.[1];
    expect(literal, text).toBeDefined();
    expect(Number.isSafeInteger(Number(literal))).toBe(false);
    const [a, b] = await Promise.all([send(sender, "+447400123458", "1"), send(sender, "+447400123459", "2")]);
    expect(a.accepted?.[0]).not.toBe(b.accepted?.[0]);
    expect(Number(a.accepted?.[0])).toBe(Number(b.accepted?.[0])); // as doubles they would be one message
    expect([a.outcome, b.outcome]).toMatchObject([{ reason: "delivered" }, { reason: "delivered" }]);
    const tokens = callbacks.map((raw) => /"message_token":(\d+)[,}]/.exec(raw)?.[1]);
    expect(tokens).toEqual(expect.arrayContaining([a.accepted?.[0], b.accepted?.[0]]));
  });

  it("reports a number that is not on Viber at once, and a failed callback later", async () => {
    const refused = await send(sender, "+447400120499", "1");
    expect(refused).toMatchObject({ accepted: null, outcome: { reason: "undeliverable" } });
    expect(refused.outcome.detail).toContain("status 6");
    const failed = await send(sender, "+447400120498", "1");
    expect(failed.accepted).toHaveLength(1);
    expect(failed.outcome).toMatchObject({ reason: "undeliverable", detail: "Message undeliverable" });
    expect(viber.messages("+447400120498")).toEqual([]);
  });

  it("is refused with a wrong token, and a callback with a forged signature does not verify", async () => {
    const wrong = createViberSender({ baseUrl: viber.baseUrl, authToken: "nope", sender: "Acme" });
    const refused = await send(wrong, "+447400123456", "1");
    expect(refused.outcome).toMatchObject({ reason: "rejected" });
    expect(refused.outcome.detail).toContain("status 2");
    await wrong.close();
    const raw = JSON.stringify({ event: "delivered", message_token: "1" });
    expect(verifyViberSignature(raw, "00".repeat(32), "viber-test-token")).toBe(false);
    expect(verifyViberSignature(`${raw} `, viberSignatureOf(raw), "viber-test-token")).toBe(false);
    expect(verifyViberSignature(raw, viberSignatureOf(raw), "viber-test-token")).toBe(true);
  });
});

describe("email OTP over SMTP against the sandbox inbox", () => {
  let inbox: VirtualInbox;
  let email: MessageSender;

  beforeAll(async () => {
    inbox = await VirtualInbox.create({ address: "127.0.0.85", port: 0 });
    email = createEmailSender({
      host: inbox.local.address,
      port: inbox.local.port,
      from: "Acme <no-reply@acme.example>",
      subject: "Ihr Bestätigungscode",
    });
  });
  afterAll(async () => {
    await email.close();
    await inbox.close();
  });

  it("hands the code to the relay and it lands in the mailbox, non-ASCII intact", async () => {
    const sent = await send(email, "user@example.com", "123456", "Ihr Code lautet 123456. Gültig für 10 Minuten.");
    expect(sent.accepted).toHaveLength(1);
    // The relay's 250 is all email can tell: the attempt is recorded delivered, with the relay's answer.
    expect(sent.outcome).toMatchObject({ delivered: true, reason: "delivered" });
    expect(sent.outcome.detail).toMatch(/^250 /);
    expect(inbox.messages("user@example.com")[0]).toMatchObject({
      channel: "email",
      from: "Acme <no-reply@acme.example>",
      subject: "Ihr Bestätigungscode",
      text: "Ihr Code lautet 123456. Gültig für 10 Minuten.",
    });
  });

  it("reports a mailbox the relay refuses as rejected", async () => {
    const sent = await send(email, "reject@example.com", "1");
    expect(sent.outcome).toMatchObject({ delivered: false, reason: "rejected" });
    expect(sent.outcome.detail).toContain("550");
  });
});
