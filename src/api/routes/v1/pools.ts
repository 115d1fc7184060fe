/**
 * /v1/pools: the server's caller-ID pools with how full they are now and each one's guess probability. Pools are
 * shared by every application, so adding a pool or numbers takes an operator key.
 */
import { z } from "zod";
import type { PoolStatus } from "../../../core/pool-admin.js";
import { authenticate, operatorOf } from "../../auth.js";
import { type RouteRegistration, unwrap } from "../../route-kit.js";
import { commonErrors, ErrorView } from "../../views.js";

const PoolView = z.object({
  id: z.string(),
  name: z.string(),
  numbers: z.array(z.string()).describe("numbers and ranges (+4420794xxxxx: every x is any digit)"),
  code_length: z.number().int(),
  countries: z.array(z.string()),
  size: z.number(),
  live_leases: z.number().int().describe("caller IDs held by live verifications now"),
  utilisation: z.number().describe("live_leases / size"),
  guess_probability: z.number().describe("checks allowed / fewest codes behind a shown prefix"),
  within_bound: z.boolean().describe("guess_probability is within the fraud controls' bound"),
});

const Numbers = z.array(z.string().min(9).max(16)).min(1).max(100);
const CreateBody = z
  .object({
    name: z.string().trim().min(1).max(64),
    numbers: Numbers,
    code_length: z.number().int().min(4).max(6),
    countries: z
      .array(z.string().regex(/^(\*|[A-Za-z]{2})$/))
      .min(1)
      .max(250)
      .describe('ISO countries or ["*"]'),
  })
  .strict();

const base = { tags: ["pools"], security: [{ bearer: [] }] };
const errors = { ...commonErrors, 403: ErrorView, 422: ErrorView };

const poolView = (s: PoolStatus): z.infer<typeof PoolView> => ({
  id: s.pool.id,
  name: s.pool.name,
  numbers: s.pool.numbers,
  code_length: s.pool.codeLength,
  countries: s.pool.countries,
  size: s.size,
  live_leases: s.liveLeases,
  utilisation: s.size === 0 ? 0 : s.liveLeases / s.size,
  guess_probability: s.guessProbability,
  within_bound: s.withinBound,
});

export const registerPools: RouteRegistration = (app, services) => {
  const onRequest = authenticate(services, "application");

  app.get(
    "/v1/pools",
    {
      onRequest,
      schema: {
        ...base,
        summary: "List caller-ID pools",
        response: { 200: z.object({ data: z.array(PoolView) }), ...errors },
      },
    },
    async () => ({ data: (await services.poolAdmin.list()).map(poolView) }),
  );

  app.post(
    "/v1/pools",
    {
      onRequest,
      schema: {
        ...base,
        summary: "Add a pool (operator keys only)",
        body: CreateBody,
        response: { 201: PoolView, ...errors },
      },
    },
    async (request, reply) => {
      operatorOf(request);
      const { name, numbers, code_length, countries } = request.body;
      const created = unwrap(await services.poolAdmin.create({ name, numbers, codeLength: code_length, countries }));
      return reply.code(201).send(poolView(created));
    },
  );

  app.post(
    "/v1/pools/:id/numbers",
    {
      onRequest,
      schema: {
        ...base,
        summary: "Add numbers or ranges to a pool (operator keys only)",
        params: z.object({ id: z.string().min(1).max(64) }),
        body: z.object({ numbers: Numbers }).strict(),
        response: { 200: PoolView, ...errors },
      },
    },
    async (request) => {
      operatorOf(request);
      return poolView(unwrap(await services.poolAdmin.addNumbers(request.params.id, request.body.numbers)));
    },
  );
};
