/**
 * GET/POST/DELETE /v1/blocks and /v1/allowlist: an application's blocked numbers, prefixes and countries (its own
 * and the pumping detector's), and the known-good numbers and prefixes that bypass the detector and risk scoring.
 */
import { z } from "zod";
import type { FraudRule } from "../../../core/ports.js";
import { applicationOf, authenticate } from "../../auth.js";
import { HttpError } from "../../errors.js";
import { type App, type RouteRegistration, unwrap } from "../../route-kit.js";
import { commonErrors, ErrorView } from "../../views.js";

const EntryView = z.object({
  id: z.string(),
  type: z.enum(["number", "prefix", "country"]),
  value: z.string(),
  reason: z.string(),
  source: z.enum(["admin", "detector"]).describe("detector: the pumping detector made it"),
  shadow: z.boolean().describe("recorded in shadow mode: it does not block"),
  created_at: z.string(),
  expires_at: z.string().nullable(),
});

const entryView = (r: FraudRule): z.infer<typeof EntryView> => ({
  id: r.id,
  type: r.scope,
  value: r.value,
  reason: r.reason,
  source: r.source,
  shadow: r.shadow,
  created_at: new Date(r.createdAt).toISOString(),
  expires_at: r.expiresAt === null ? null : new Date(r.expiresAt).toISOString(),
});

const Params = z.object({ id: z.string().min(1).max(64) });

function registerList(app: App, services: Parameters<RouteRegistration>[1], path: string, list: FraudRule["list"]) {
  const scopes = list === "block" ? (["number", "prefix", "country"] as const) : (["number", "prefix"] as const);
  const Body = z
    .object({
      type: z.enum(scopes),
      value: z.string().min(2).max(32).describe("E.164 number (+447400123456), prefix (+4474001) or ISO country"),
      reason: z.string().max(256).optional(),
      expires_in_seconds: z.number().int().min(1).max(31_536_000).optional().describe("default: until deleted"),
    })
    .strict();
  const tags = ["fraud"];
  const security = [{ bearer: [] }];

  app.get(
    path,
    {
      onRequest: authenticate(services, "application"),
      schema: {
        summary: `List the ${list} list`,
        tags,
        security,
        response: { 200: z.object({ data: z.array(EntryView) }), ...commonErrors, 403: ErrorView },
      },
    },
    async (request) => ({ data: services.fraud.listRules(applicationOf(request), list).map(entryView) }),
  );

  app.post(
    path,
    {
      onRequest: authenticate(services, "application"),
      schema: {
        summary: `Add to the ${list} list`,
        tags,
        security,
        body: Body,
        response: { 201: EntryView, ...commonErrors, 403: ErrorView },
      },
    },
    async (request, reply) => {
      const { type, value, reason, expires_in_seconds } = request.body;
      const rule = unwrap(
        await services.fraud.addRule({
          applicationId: applicationOf(request),
          list,
          scope: type,
          value,
          reason,
          expiresInSeconds: expires_in_seconds,
        }),
      );
      return reply.code(201).send(entryView(rule));
    },
  );

  app.delete(
    `${path}/:id`,
    {
      onRequest: authenticate(services, "application"),
      schema: {
        summary: `Remove from the ${list} list`,
        tags,
        security,
        params: Params,
        response: { 204: z.null(), ...commonErrors, 403: ErrorView },
      },
    },
    async (request, reply) => {
      const removed = await services.fraud.removeRule(applicationOf(request), list, request.params.id);
      if (!removed) throw new HttpError({ code: "NOT_FOUND" });
      return reply.code(204).send(null);
    },
  );
}

export const registerBlocks: RouteRegistration = (app, services) => registerList(app, services, "/v1/blocks", "block");
export const registerAllowlist: RouteRegistration = (app, services) =>
  registerList(app, services, "/v1/allowlist", "allow");
