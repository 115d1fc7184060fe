/**
 * POST /v1/receipts/{channel}/{token}: delivery reports that message providers post back (Twilio's status
 * callbacks, WhatsApp's message statuses, a generic gateway's DLRs). The unguessable token in the path
 * (RECEIPTS_TOKEN) is the credential providers can be given; WhatsApp's body signature is checked as well when the
 * app secret is configured. GET answers WhatsApp's subscription handshake with the same token.
 */
import { timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { parseProviderJson } from "../../../channels/http-provider.js";
import { verifyViberSignature } from "../../../channels/viber/index.js";
import { verifyWhatsAppSignature } from "../../../channels/whatsapp/index.js";
import { MESSAGE_CHANNELS } from "../../../core/types.js";
import { sendError } from "../../errors.js";
import type { RouteRegistration } from "../../route-kit.js";
import { ErrorView } from "../../views.js";

const Params = z.object({ channel: z.enum(MESSAGE_CHANNELS), token: z.string().min(1).max(200) });

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export const registerReceipts: RouteRegistration = (app, services) => {
  const token = services.config.RECEIPTS_TOKEN;
  if (!token) return;
  const { WHATSAPP_APP_SECRET: whatsappSecret, VIBER_AUTH_TOKEN: viberToken } = services.config;
  const header = (headers: IncomingHttpHeaders, name: string) => {
    const value = headers[name];
    return typeof value === "string" ? value : undefined;
  };
  /** WhatsApp's body signature when its app secret is configured; Viber's always (its token is the key). */
  const signedAsExpected = (channel: string, body: string, headers: IncomingHttpHeaders): boolean => {
    if (channel === "whatsapp" && whatsappSecret) {
      return verifyWhatsAppSignature(body, header(headers, "x-hub-signature-256"), whatsappSecret);
    }
    if (channel === "viber" && viberToken) {
      return verifyViberSignature(body, header(headers, "x-viber-content-signature"), viberToken);
    }
    return true;
  };
  const raw = new WeakMap<object, string>();

  app.register(async (plugin) => {
    const scope = plugin.withTypeProvider<ZodTypeProvider>();
    // Providers post JSON or forms; the raw text is kept for signature checks.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      ["application/json", "application/x-www-form-urlencoded"],
      { parseAs: "string", bodyLimit: 64 * 1024 },
      (request, body, done) => {
        const text = body as string;
        raw.set(request, text);
        try {
          const form = request.headers["content-type"]?.startsWith("application/x-www-form-urlencoded");
          done(null, form ? Object.fromEntries(new URLSearchParams(text)) : parseProviderJson(text));
        } catch {
          done(Object.assign(new Error("malformed body"), { statusCode: 400 }), undefined);
        }
      },
    );

    scope.post(
      "/v1/receipts/:channel/:token",
      {
        schema: {
          summary: "Delivery reports from message providers",
          tags: ["channels"],
          params: Params,
          response: { 204: z.null(), 400: ErrorView, 401: ErrorView, 404: ErrorView },
        },
      },
      async (request, reply) => {
        if (!sameToken(request.params.token, token)) return sendError(reply, { code: "UNAUTHORIZED" });
        const channel = services.messageChannels[request.params.channel];
        if (!channel?.handleReceipt) return sendError(reply, { code: "NOT_FOUND" });
        if (!signedAsExpected(request.params.channel, raw.get(request) ?? "", request.headers)) {
          return sendError(reply, { code: "UNAUTHORIZED" });
        }
        const body = request.body;
        if (!body || typeof body !== "object" || Array.isArray(body))
          return sendError(reply, { code: "INVALID_REQUEST" });
        channel.handleReceipt(body as Record<string, unknown>);
        return reply.code(204).send(null);
      },
    );

    scope.get(
      "/v1/receipts/:channel/:token",
      {
        schema: {
          summary: "WhatsApp's webhook subscription handshake",
          tags: ["channels"],
          params: Params,
          querystring: z.object({
            "hub.mode": z.literal("subscribe"),
            "hub.verify_token": z.string().max(200),
            "hub.challenge": z.string().max(200),
          }),
          response: { 200: z.string(), 400: ErrorView, 401: ErrorView },
        },
      },
      async (request, reply) => {
        const query = request.query;
        if (!sameToken(request.params.token, token) || !sameToken(query["hub.verify_token"], token)) {
          return sendError(reply, { code: "UNAUTHORIZED" });
        }
        return reply.type("text/plain").send(query["hub.challenge"]);
      },
    );
  });
};
