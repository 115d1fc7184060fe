/**
 * The real stack for tests: configuration from a test environment, an in-memory SQLite store, the sandbox's
 * virtual handsets on an ephemeral loopback port, and the Fastify app driven with `inject()`.
 */
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../src/api/app.js";
import { loadConfig } from "../../src/config.js";
import type { Clock } from "../../src/core/ports.js";
import { createServices, type Services } from "../../src/services.js";

export const TEST_KEY = "fv_test_key_0123456789abcdef";

export interface TestApp {
  app: FastifyInstance;
  services: Services;
  close(): Promise<void>;
}

export async function createTestApp(env: Record<string, string> = {}, clock?: Clock): Promise<TestApp> {
  const config = loadConfig({
    DATABASE_URL: "sqlite::memory:",
    FLASHVERIFY_API_KEY: TEST_KEY,
    FLASHVERIFY_SECRET: "test-secret-test-secret-test-secret",
    SANDBOX: "on",
    SANDBOX_SIP_PORT: "0",
    SIP_RING_TIME_MS: "50",
    SIP_T1_MS: "20",
    LOG_LEVEL: "silent",
    // Test files share two cores; shedding is tested on purpose (api-overload.test.ts), never by accident.
    OVERLOAD_MAX_LAG_MS: "0",
    ...env,
  });
  const services = await createServices(config, clock ? { clock } : {});
  const app = await buildApp(services);
  return {
    app,
    services,
    async close() {
      await app.close();
      await services.close();
    },
  };
}

export const auth = (token: string = TEST_KEY) => ({ authorization: `Bearer ${token}` });

/** Polls until `probe` returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
