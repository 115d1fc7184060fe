/**
 * The real stack for tests: configuration from a test environment, an in-memory SQLite store, the sandbox's
 * virtual handsets on an ephemeral loopback port, and the Fastify app driven with `inject()`.
 */
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../src/api/app.js";
import { loadConfig } from "../../src/config.js";
import type { Clock } from "../../src/core/ports.js";
import { createServices, type ServiceOverrides, type Services } from "../../src/services.js";

export const TEST_KEY = "fv_test_key_0123456789abcdef";

/**
 * The fraud settings of the general API tests. Every request of `inject()` comes from 127.0.0.1 and the tests start
 * many verifications to a few numbers without verifying them, which the production defaults rightly refuse; these
 * widen the limits and turn the pumping detector off so those tests test what they name. The fraud tests pass
 * empty strings for these keys to get the real defaults back (an empty value counts as unset), and test them.
 */
export const TEST_FRAUD_SETTINGS: Record<string, string> = {
  FRAUD_START_LIMITS: "destination=10000/1m,prefix=10000/1m,ip=10000/1m,device=10000/1m",
  FRAUD_CHECK_LIMITS: "destination=10000/1m,ip=10000/1m",
  FRAUD_CHECK_FAILURES: "10000/24h",
  FRAUD_PUMPING: "off",
};

/** The production defaults of the fraud controls, for tests of them: overrides TEST_FRAUD_SETTINGS with "unset". */
export const DEFAULT_FRAUD_SETTINGS: Record<string, string> = Object.fromEntries(
  Object.keys(TEST_FRAUD_SETTINGS).map((k) => [k, ""]),
);

export interface TestApp {
  app: FastifyInstance;
  services: Services;
  close(): Promise<void>;
}

export async function createTestApp(
  env: Record<string, string> = {},
  clock?: Clock,
  overrides: ServiceOverrides = {},
): Promise<TestApp> {
  const config = loadConfig({
    DATABASE_URL: "sqlite::memory:",
    FLASHVERIFY_API_KEY: TEST_KEY,
    FLASHVERIFY_SECRET: "test-secret-test-secret-test-secret",
    SANDBOX: "on",
    SANDBOX_SIP_PORT: "0",
    SANDBOX_SMPP_PORT: "0",
    SANDBOX_SMTP_PORT: "0",
    SIP_RING_TIME_MS: "50",
    SIP_T1_MS: "20",
    LOG_LEVEL: "silent",
    // Test files share two cores; shedding is tested on purpose (api-overload.test.ts), never by accident.
    OVERLOAD_MAX_LAG_MS: "0",
    ...TEST_FRAUD_SETTINGS,
    ...env,
  });
  const services = await createServices(config, clock ? { ...overrides, clock } : overrides);
  const app = await buildApp(services, { checkResponses: true });
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
