/** GET /metrics: Prometheus text format. Unauthenticated like /healthz: keep it on an internal listener or network. */
import type { RouteRegistration } from "../route-kit.js";

export const registerMetrics: RouteRegistration = (app, services) => {
  app.get("/metrics", { schema: { hide: true } }, async (_request, reply) => {
    const text = await services.metrics.scrape();
    return reply.type(services.metrics.registry.contentType).send(text);
  });
};
