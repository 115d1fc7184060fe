/**
 * A sign-up backend using the flashverify SDK (`@flashverify/sdk`), on node:http alone: it starts verifications for
 * its app (which then talks to flashverify itself with the client token: live status, "Use SMS instead", the check)
 * and receives flashverify's signed webhooks.
 *
 * In your project: build the SDK's tarball (`cd sdk && npm pack`), `npm install /path/to/flashverify-sdk-0.1.0.tgz`,
 * copy this file, and run it with your TypeScript setup (tsx, or Node 22.6+ with --experimental-strip-types),
 * beside a flashverify server:
 *
 *   FLASHVERIFY_URL=http://127.0.0.1:8080 FLASHVERIFY_API_KEY=fv_... FLASHVERIFY_WEBHOOK_SECRET=whsec_... \
 *     npx tsx node-backend.ts
 *
 * Its webhook endpoint is registered once, with the API key (the answer holds the secret, shown once):
 *
 *   curl -s -X POST $FLASHVERIFY_URL/v1/webhook-endpoints -H "Authorization: Bearer $FLASHVERIFY_API_KEY" \
 *     -H 'Content-Type: application/json' \
 *     -d '{"url": "http://127.0.0.1:3000/webhooks/flashverify", "event_types": ["verification.verified"]}'
 *
 * flashverify refuses to call private and loopback addresses unless told otherwise: on a development machine start
 * it with WEBHOOK_ALLOW_PRIVATE=loopback (or loopback,private) for that URL to be accepted.
 */
import { createServer, type IncomingMessage } from "node:http";
import { createClient, FlashverifyError, verifyWebhookSignature } from "@flashverify/sdk";

const flashverify = createClient({
  baseUrl: process.env.FLASHVERIFY_URL ?? "http://127.0.0.1:8080",
  token: process.env.FLASHVERIFY_API_KEY ?? "",
});
const webhookSecret = process.env.FLASHVERIFY_WEBHOOK_SECRET ?? "";
/** Numbers this backend has seen verified; a real one would mark the account in its database. */
const verified = new Set<string>();

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const server = createServer(async (request, response) => {
  const reply = (status: number, body: unknown) =>
    response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  try {
    if (request.method === "POST" && request.url === "/signup/phone") {
      const { phone } = JSON.parse(await readBody(request)) as { phone: string };
      // The person's own address and browser: without them every start comes from this backend's address, and the
      // per-IP limits would count all of your users as one.
      const client = {
        ...(request.socket.remoteAddress ? { ip: request.socket.remoteAddress } : {}),
        ...(request.headers["user-agent"] ? { user_agent: request.headers["user-agent"] } : {}),
      };
      const started = await flashverify.start({
        phone,
        workflow: [{ channel: "flashcall" }, { channel: "sms" }],
        client,
      });
      // The app gets the client token and the pattern to wait for; never the API key.
      return reply(201, { id: started.id, client_token: started.client_token, flashcall: started.flashcall });
    }
    if (request.method === "POST" && request.url === "/webhooks/flashverify") {
      const raw = await readBody(request);
      const verdict = await verifyWebhookSignature(webhookSecret, request.headers, raw);
      if (!verdict.ok) return reply(400, { error: verdict.reason });
      const event = JSON.parse(raw) as { type: string; data: { verification_id: string } };
      if (event.type === "verification.verified") {
        const v = await flashverify.get(event.data.verification_id);
        if (v.phone) verified.add(v.phone); // null once erased
      }
      return response.writeHead(204).end();
    }
    reply(404, { error: "not found" });
  } catch (error) {
    if (error instanceof FlashverifyError) return reply(error.status, { error: error.code });
    reply(500, { error: "internal" });
  }
});

server.listen(Number(process.env.PORT ?? 3000), "127.0.0.1", () => {
  console.log(`sign-up backend on http://127.0.0.1:${process.env.PORT ?? 3000}`);
});
