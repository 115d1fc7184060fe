/**
 * The Sinch-compatible Verification API under /verification/v1/: a team using Sinch's SDKs points their
 * `verificationHostname` at this server and keeps its code. Every route translates into the same service calls as
 * our /v1 routes (start, check, get), so the same verifications, screening, limits and callbacks apply; nothing here
 * decides anything of its own.
 *
 * The routes live in their own Fastify scope: bodies are read as text so a signed request's MD5 is computed over the
 * bytes as sent, credentials are checked before the body is parsed, and every error is written in Sinch's shape.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Services } from "../../../services.js";
import { HttpError } from "../../errors.js";
import type { App, RouteRegistration } from "../../route-kit.js";
import { SinchAuthenticator } from "./auth.js";
import { sendSinchError, sinchErrorHandler } from "./errors.js";
import { registerSinchReport } from "./report.js";
import { registerSinchStart } from "./start.js";
import { registerSinchStatus } from "./status.js";

export const registerSinch: RouteRegistration = (app, services) => {
  void app.register(async (scope) => sinchScope(scope as unknown as App, services), { prefix: "/verification/v1" });
};

async function sinchScope(scope: App, services: Services): Promise<void> {
  const authenticator = new SinchAuthenticator(services);
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser("*", { parseAs: "string" }, (_request, body, done) => done(null, body));
  scope.setErrorHandler(sinchErrorHandler);
  scope.setNotFoundHandler((_request, reply) => sendSinchError(reply, { code: "NOT_FOUND" }));
  scope.addHook("preValidation", async (request: FastifyRequest, _reply: FastifyReply) => {
    const raw = typeof request.body === "string" ? request.body : "";
    const pair = await authenticator.authenticate(request, raw);
    request.access = { kind: "application", applicationId: pair.applicationId };
    if (request.method === "GET" || request.method === "DELETE") return;
    try {
      request.body = JSON.parse(raw);
    } catch {
      throw new HttpError({ code: "INVALID_REQUEST", message: "The body is not valid JSON." });
    }
  });
  registerSinchStart(scope, services);
  registerSinchReport(scope, services);
  registerSinchStatus(scope, services);
}
