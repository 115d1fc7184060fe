/** /dashboard from the Vite build: served by every server (it shows nothing without an API key). */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "./support/test-app.js";

describe("the dashboard page", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it("is served as HTML under the pages' content security policy, with its own script", async () => {
    for (const url of ["/dashboard", "/dashboard/"]) {
      const res = await t.app.inject({ method: "GET", url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
      expect(res.headers["content-security-policy"]).toContain("script-src 'self'");
      expect(res.body).toMatch(
        /<script type="module" crossorigin src="\/web\/assets\/dashboard-[\w-]+\.js"><\/script>/,
      );
    }
  });
});
