/**
 * Runs the server: builds the services and the HTTP app, listens, starts the background work (timers, webhook
 * deliveries, pool refresh), and stops gracefully: readiness reports draining (for SHUTDOWN_DRAIN_MS), the listener
 * closes while requests in progress are answered, calls ring on for up to SHUTDOWN_GRACE_MS before the rest are
 * hung up, every outcome is written, and claims, channels, Redis and the database are released.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { buildApp } from "./api/app.js";
import type { CallSummary } from "./channels/flashcall-sip/index.js";
import { assertSandboxHost, type Config } from "./config.js";
import { createServices, type Services } from "./services.js";
import { startupLines } from "./startup-lines.js";

export interface RunningServer {
  app: FastifyInstance;
  services: Services;
  url: string;
  stop(): Promise<void>;
}

/** how often pools are reloaded */
const POOL_REFRESH_MS = 10_000;

export interface ServerOptions {
  /**
   * where the startup lines (pages, carrier, how to get a key) go; default stderr at LOG_LEVEL info and below,
   * nowhere above it
   */
  print?: (line: string) => void;
}

const QUIET_LEVELS = new Set(["warn", "error", "fatal", "silent"]);

export async function startServer(config: Config, options: ServerOptions = {}): Promise<RunningServer> {
  await assertSandboxHost(config);
  const logger = pino({ level: config.LOG_LEVEL });
  const services = await createServices(config, {
    onBackgroundError: (error, context) => logger.error({ err: error }, `background ${context} failed`),
    onTrunkEvent: (event) => logger.warn({ trunk: event.trunk }, `SIP trunk ${event.type.replace(/_/g, " ")}`),
    // One line when the database or Redis goes away, one when it is back with what was refused meanwhile.
    onOutage: (up, report) =>
      up
        ? logger.info(report, `${report.dependency} is back`)
        : logger.error(report, `${report.dependency} cannot be reached`),
    // Per call, so only built when someone reads it.
    ...(logger.isLevelEnabled("debug")
      ? { onCallEnded: (call: CallSummary) => logger.debug({ call }, `flash call ${call.reason}`) }
      : {}),
    // Asked for explicitly (SIP_TRACE), so it is logged at info: a trace that LOG_LEVEL hid would be no trace.
    onSipTrace: (trunk, entries) => {
      for (const { dir, at, first, text } of entries) {
        logger.info({ trunk, sip: { dir, at: new Date(at).toISOString(), text } }, `SIP ${dir} ${first}`);
      }
    },
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

  // Durable timers (expiry, attempts a crash left in flight) and webhook deliveries, both driven from rows.
  services.startWorkers();
  const refresh = setInterval(() => {
    services.pools.refresh().catch((error: unknown) => logger.error({ err: error }, "pool refresh failed"));
  }, POOL_REFRESH_MS);
  refresh.unref();

  const sandbox = services.sandbox?.handsets.local;
  logger.info(
    {
      url,
      sandbox: sandbox ? `virtual handsets at sip:${sandbox.address}:${sandbox.port}` : "off",
      pools: services.pools.all.map((p) => ({ id: p.id, size: p.size, code_length: p.codeLength })),
      trunks: services.trunks,
      sip_trace: config.SIP_TRACE,
    },
    "flashverify is serving",
  );
  const print =
    options.print ??
    (QUIET_LEVELS.has(config.LOG_LEVEL) ? undefined : (line: string) => process.stderr.write(`${line}\n`));
  if (print) {
    const lines = startupLines({
      url,
      sandbox: sandbox ?? null,
      trunks: config.trunks ?? [],
      pools: services.pools.all.map((p) => ({ id: p.id, size: p.size, codeLength: p.codeLength })),
      apiKeyFromEnv: config.FLASHVERIFY_API_KEY !== undefined,
    });
    for (const line of lines) print(line);
  }

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      // Readiness says so at once; a load balancer checking /readyz takes this node out of rotation while it
      // still answers whatever arrives.
      services.draining = true;
      logger.info({ drain_ms: config.SHUTDOWN_DRAIN_MS, grace_ms: config.SHUTDOWN_GRACE_MS }, "shutting down");
      if (config.SHUTDOWN_DRAIN_MS > 0) await sleep(config.SHUTDOWN_DRAIN_MS);
      clearInterval(refresh);
      // The listener closes; requests in progress are answered, SSE streams end (their clients reconnect, to
      // another node) and idle keep-alive connections close.
      await server.close();
      await services.close({ graceMs: config.SHUTDOWN_GRACE_MS });
      logger.info("flashverify stopped");
    })();
    return stopping;
  };
  return { app: server, services, url, stop };
}
