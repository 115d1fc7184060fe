import { defineConfig } from "vitest/config";

/**
 * Two projects: `unit` (the tests beside the code in src/ and sdk/: no peers, no browser, no child servers; `npm run
 * test:unit`, well under a minute) and `integration` (test/: the API on the real stack, interop with SIPp, Kamailio,
 * baresip, the databases, Chromium, the speech tools). `npm test` runs both.
 */
const shared = { testTimeout: 20_000, hookTimeout: 20_000, pool: "forks" } as const;

export default defineConfig({
  test: {
    projects: [
      { test: { ...shared, name: "unit", include: ["src/**/*.test.ts", "sdk/test/**/*.test.ts"] } },
      { test: { ...shared, name: "integration", include: ["test/**/*.test.ts"] } },
    ],
  },
});
