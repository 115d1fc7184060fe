/**
 * Runs the server: builds the services and the HTTP app, listens, drives the periodic work (expiry sweep, pool
 * refresh) and shuts down gracefully on SIGINT/SIGTERM, letting in-flight requests finish.
 */
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { buildApp } from "./api/app.js";
import type { Config } from "./config.js";
import { createServices, type Services } from "./services.js";

export interface RunningServer {
  app: FastifyInstance;
  services: Services;
  url: string;
  stop(): Promise<void>;
}

/** how often overdue verifications are settled and pools reloaded */
const SWEEP_INTERVAL_MS = 1000;
const POOL_REFRESH_MS = 10_000;

export async function startServer(config: Config): Promise<RunningServer> {
  const logger = pino({ level: config.LOG_LEVEL });
  const services = await createServices(config, {
    onBackgroundError: (error, context) => logger.error({ err: error }, `background ${context} failed`),
  });
  let app: FastifyInstance | undefined;
  let url: string;
  try {
    app = await buildApp(services, { logger });
    url = await app.listen({ port: config.PORT, host: config.HOST });
  } catch (error) {
    // Sockets already open (SIP, handsets) would keep a failed process alive.
    await app?.close();
    await services.close();
    throw error;
  }
  const server = app;

  let sweeping = false;
  const sweep = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    services.verifications
      .expireDue()
      .catch((error: unknown) => logger.error({ err: error }, "expiry sweep failed"))
      .finally(() => {
        sweeping = false;
      });
  }, SWEEP_INTERVAL_MS);
  const refresh = setInterval(() => {
    services.pools.refresh().catch((error: unknown) => logger.error({ err: error }, "pool refresh failed"));
  }, POOL_REFRESH_MS);
  sweep.unref();
  refresh.unref();

  const sandbox = services.sandbox?.handsets.local;
  logger.info(
    {
      url,
      sandbox: sandbox ? `virtual handsets at sip:${sandbox.address}:${sandbox.port}` : "off",
      pools: services.pools.all.map((p) => ({ id: p.id, size: p.size, code_length: p.codeLength })),
    },
    "flashverify is serving",
  );

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      clearInterval(sweep);
      clearInterval(refresh);
      await server.close();
      await services.close();
    })();
    return stopping;
  };
  return { app: server, services, url, stop };
}
