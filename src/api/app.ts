/**
 * The HTTP application: Fastify with zod schemas (validation, types and the OpenAPI document from one source; the
 * answers are written by serializers compiled from the same schemas, see response-serializer.ts).
 * `buildApp` never listens; the server and the tests decide how to serve it.
 */
import { randomBytes } from "node:crypto";
import swagger from "@fastify/swagger";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import { validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import type { Services } from "../services.js";
import { errorHandlerFor, sendError } from "./errors.js";
import { addExamples } from "./openapi-examples.js";
import { openApiTransform } from "./openapi-media.js";
import { checkedSerializerCompiler, compiledSerializerCompiler } from "./response-serializer.js";
import { routes } from "./routes/index.js";

/** Request bodies above this are refused with 413 before they are parsed. */
export const BODY_LIMIT_BYTES = 16 * 1024;

export interface BuildAppOptions {
  /** a pino logger for requests; default: no request logging */
  logger?: FastifyBaseLogger;
  /**
   * Check every answer against its zod schema (and the compiled serializer against zod's output) before sending it;
   * an answer that breaks its schema fails its request. For tests; default off, since the views are the server's own.
   */
  checkResponses?: boolean;
}

export async function buildApp(services: Services, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    // One line per request, written when it is answered (below), instead of Fastify's two: on a busy server the
    // second line cost as much as a quarter of the request's own work.
    ...(options.logger
      ? { loggerInstance: options.logger, logController: new LogController({ disableRequestLogging: true }) }
      : { logger: false }),
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: nextRequestId,
    requestIdHeader: false,
    // The client IP of the fraud controls: X-Forwarded-For is believed only from the proxies configured.
    trustProxy: trustProxy(services.config.FRAUD_TRUST_PROXY),
    // Malformed URLs and over-long path parameters get the one error shape too (Fastify's own echoes the URL).
    // These answers skip the hooks, so the request id header is set here.
    frameworkErrors: (_error, request, reply) =>
      sendError(reply.header("x-request-id", request.id), {
        code: "INVALID_REQUEST",
        message: "The URL is malformed or a path parameter is too long.",
      }),
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(options.checkResponses ? checkedSerializerCompiler : compiledSerializerCompiler);
  app.setErrorHandler(errorHandlerFor(services.outages));
  app.decorateRequest("access", null);
  app.decorateRequest("apiKeyId", null);
  app.decorateReply("errorCode", null);
  app.setNotFoundHandler((_request, reply) => sendError(reply, { code: "NOT_FOUND" }));
  // Hooks of every request take `done` rather than returning a promise: nothing in them waits, and an async hook
  // costs a promise and a trip through the microtask queue per request.
  app.addHook("onSend", (request, reply, payload, done) => {
    reply.header("x-request-id", request.id);
    done(null, payload);
  });
  app.addHook("onResponse", (request, reply, done) => {
    // The route's pattern, not the URL: ids in paths would make a series per verification.
    const route = request.routeOptions.url ?? "unmatched";
    services.metrics.request(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    if (options.logger) {
      const ms = Math.round(reply.elapsedTime * 10) / 10;
      const code = reply.errorCode;
      const line = { method: request.method, url: request.url, status: reply.statusCode, ms };
      request.log.info(code ? { ...line, code } : line, "request");
    }
    done();
  });

  await app.register(swagger, {
    openapi: {
      info: {
        title: "flashverify",
        version: "0.1.0",
        description: "Phone-number verification by flash call: a missed call whose caller ID ends in the code.",
      },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    },
    transform: openApiTransform,
    // Examples from the schemas and field names, for the API reference at /docs and any other reader.
    transformObject: (document) =>
      "openapiObject" in document ? addExamples(document.openapiObject) : document.swaggerObject,
  });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  for (const register of routes) register(app, services);
  await app.ready();
  services.lag.reset();
  return app;
}

/**
 * Request ids: a random prefix per process and a counter, so they are unique across the nodes of a deployment and
 * cost no call into the system's random source per request (which measured ~2% of the server's time). They
 * correlate logs and errors; nothing trusts them as secrets.
 */
const requestIdPrefix = `req_${randomBytes(6).toString("base64url")}`;
let requestCount = 0;

function nextRequestId(): string {
  requestCount += 1;
  return `${requestIdPrefix}${requestCount.toString(36)}`;
}

/** FRAUD_TRUST_PROXY: `off`, `on` (any proxy), or comma-separated addresses and CIDRs of your proxies. */
function trustProxy(setting: string): boolean | string[] {
  if (setting === "off") return false;
  if (setting === "on") return true;
  return setting.split(",").map((s) => s.trim());
}
