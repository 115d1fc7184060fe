/**
 * /v1/applications and /v1/api-keys: the applications of the server (listed and created by the operator's keys)
 * and the calling application's API keys. A key is shown once, when it is made; afterwards only its id, label and
 * dates are, because only its hash is stored. Revoking keeps the record, so the list shows when it stopped working.
 */
import { z } from "zod";
import { isOperator } from "../../../core/applications.js";
import type { StoredApiKey } from "../../../core/operator-store.js";
import type { ApiKeyRecord } from "../../../core/ports.js";
import { applicationOf, authenticate, operatorOf } from "../../auth.js";
import { HttpError } from "../../errors.js";
import type { RouteRegistration } from "../../route-kit.js";
import { commonErrors, ErrorView } from "../../views.js";

const iso = (ms: number) => new Date(ms).toISOString();

const ApplicationView = z.object({
  id: z.string(),
  name: z.string(),
  created_at: z.string(),
  operator: z.boolean().describe("its keys manage applications and pools"),
});
const KeyView = z.object({
  id: z.string(),
  label: z.string(),
  created_at: z.string(),
  revoked_at: z.string().nullable(),
});
const KeyWithSecretView = KeyView.extend({
  key: z.string().describe("fv_...: shown this once; send it as `Authorization: Bearer`"),
});

const KeyListView = KeyView.extend({
  kind: z.enum(["api", "sinch"]),
  application_key: z.string().nullable().describe("a Sinch pair's application key; null for an API key"),
});

const SinchPairView = z.object({
  id: z.string(),
  kind: z.literal("sinch"),
  label: z.string(),
  created_at: z.string(),
  application_key: z.string().describe("the Sinch SDKs' applicationKey"),
  application_secret: z.string().describe("the Sinch SDKs' applicationSecret: shown this once"),
});

const keyView = (k: StoredApiKey | ApiKeyRecord): z.infer<typeof KeyView> => ({
  id: k.id,
  label: k.label,
  created_at: iso(k.createdAt),
  revoked_at: "revokedAt" in k && k.revokedAt !== null ? iso(k.revokedAt) : null,
});
const applicationView = (a: { id: string; name: string; createdAt: number }) => ({
  id: a.id,
  name: a.name,
  created_at: iso(a.createdAt),
  operator: isOperator(a.id),
});

const base = { security: [{ bearer: [] }] };
const errors = { ...commonErrors, 403: ErrorView };
const Label = z.string().trim().min(1).max(64);

export const registerApplications: RouteRegistration = (app, services) => {
  const onRequest = authenticate(services, "application");

  app.get(
    "/v1/applications",
    {
      onRequest,
      schema: {
        ...base,
        tags: ["applications"],
        summary: "List applications",
        description: "Every application for the operator's keys; the calling application for any other key.",
        response: { 200: z.object({ data: z.array(ApplicationView) }), ...errors },
      },
    },
    async (request) => {
      const caller = applicationOf(request);
      const all = await services.applications.list();
      return { data: all.filter((a) => isOperator(caller) || a.id === caller).map(applicationView) };
    },
  );

  app.post(
    "/v1/applications",
    {
      onRequest,
      schema: {
        ...base,
        tags: ["applications"],
        summary: "Create an application with its first key (operator keys only)",
        body: z.object({ name: Label }).strict(),
        response: { 201: ApplicationView.extend({ api_key: KeyWithSecretView }), ...errors },
      },
    },
    async (request, reply) => {
      operatorOf(request);
      const created = await services.applications.create(request.body.name);
      return reply
        .code(201)
        .send({ ...applicationView(created.application), api_key: { ...keyView(created.record), key: created.key } });
    },
  );
};

export const registerApiKeys: RouteRegistration = (app, services) => {
  const onRequest = authenticate(services, "application");

  app.get(
    "/v1/api-keys",
    {
      onRequest,
      schema: {
        ...base,
        tags: ["applications"],
        summary: "List the application's API keys and Sinch credential pairs",
        description: "Sinch pairs are listed while they work, with their application key (never the secret).",
        response: { 200: z.object({ data: z.array(KeyListView) }), ...errors },
      },
    },
    async (request) => {
      const applicationId = applicationOf(request);
      const keys = (await services.apiKeys.list(applicationId)).map((k) => ({
        ...keyView(k),
        kind: "api" as const,
        application_key: null,
      }));
      const pairs = (await services.sinchCredentials.list(applicationId)).map((p) => ({
        id: p.id,
        label: p.label,
        created_at: iso(p.createdAt),
        revoked_at: null,
        kind: "sinch" as const,
        application_key: p.applicationKey,
      }));
      return { data: [...keys, ...pairs] };
    },
  );

  app.post(
    "/v1/api-keys",
    {
      onRequest,
      schema: {
        ...base,
        tags: ["applications"],
        summary: "Create an API key, or a Sinch credential pair (shown once)",
        description:
          'kind "sinch" makes an application key and secret for the Sinch-compatible API (/verification/v1/); ' +
          "the secret is kept sealed under the server secret, since Sinch's signed requests need it.",
        body: z
          .object({
            label: Label.optional().describe("default: the kind"),
            kind: z.enum(["api", "sinch"]).default("api"),
          })
          .strict(),
        response: { 201: z.union([KeyWithSecretView, SinchPairView]), ...errors },
      },
    },
    async (request, reply) => {
      const applicationId = applicationOf(request);
      const { kind, label = kind === "sinch" ? "sinch" : "api" } = request.body;
      if (kind === "sinch") {
        const pair = await services.sinchCredentials.issue(applicationId, label);
        return reply.code(201).send({
          id: pair.id,
          kind: "sinch" as const,
          label,
          created_at: iso(pair.createdAt),
          application_key: pair.applicationKey,
          application_secret: pair.applicationSecret,
        });
      }
      const { key, record } = await services.apiKeys.issue(applicationId, label);
      return reply.code(201).send({ ...keyView(record), key });
    },
  );

  app.delete(
    "/v1/api-keys/:id",
    {
      onRequest,
      schema: {
        ...base,
        tags: ["applications"],
        summary: "Revoke an API key or a Sinch credential pair (snk_...)",
        description: "Other server processes stop accepting it within 10 s (their cache); this one at once.",
        params: z.object({ id: z.string().min(1).max(64) }),
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      const applicationId = applicationOf(request);
      const id = request.params.id;
      const revoked = id.startsWith("snk_")
        ? await services.sinchCredentials.revoke(applicationId, id)
        : await services.apiKeys.revoke(applicationId, id);
      if (!revoked) throw new HttpError({ code: "API_KEY_NOT_FOUND" });
      return reply.code(204).send(null);
    },
  );
};
