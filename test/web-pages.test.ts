/** The web pages from the Vite build (`npm test` builds it first): content types, caching, and who gets which page. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "./support/test-app.js";

describe("web pages", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it("serves /demo as HTML that is never cached, under a content security policy", async () => {
    for (const url of ["/demo", "/demo/"]) {
      const res = await t.app.inject({ method: "GET", url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
      expect(res.headers["cache-control"]).toBe("no-cache");
      expect(res.headers["content-security-policy"]).toContain("script-src 'self'");
      expect(res.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
      expect(res.body).toMatch(/<script type="module" crossorigin src="\/web\/assets\/demo-[\w-]+\.js"><\/script>/);
    }
  });

  it("serves the page's hashed assets with their content types, cached for a year", async () => {
    const html = (await t.app.inject({ method: "GET", url: "/demo" })).body;
    const assets = [...html.matchAll(/(?:src|href)="(\/web\/assets\/[^"]+)"/g)].map((m) => m[1] as string);
    expect(assets.some((a) => a.endsWith(".js"))).toBe(true);
    expect(assets.some((a) => a.endsWith(".css"))).toBe(true);
    for (const url of assets) {
      const res = await t.app.inject({ method: "GET", url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers["content-type"]).toBe(
        url.endsWith(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8",
      );
      expect(res.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
      expect(res.headers["x-content-type-options"]).toBe("nosniff");
    }
  });

  it("serves the widget as one script, under a name that stays, so cached briefly", async () => {
    const res = await t.app.inject({ method: "GET", url: "/sdk/flashverify-widget.js" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(res.headers["cache-control"]).toBe("public, max-age=300");
    expect(res.body).toContain("flashverify-widget");
    // One file: it imports nothing else.
    expect(res.body).not.toMatch(/^\s*import\s/m);
  });

  it("serves nothing outside the assets folder", async () => {
    for (const url of [
      "/web/assets/..%2Fdemo%2Findex.html",
      "/web/assets/..%2F..%2Fpackage.json",
      "/web/assets/.hidden",
      "/web/assets/missing-abc123.js",
      "/web/demo/index.html",
    ]) {
      const res = await t.app.inject({ method: "GET", url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error.code, url).toBe("NOT_FOUND");
    }
  });
});

describe("web pages without the sandbox", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ SANDBOX: "off", SIP_TRUNK_HOST: "127.0.1.2", POOL_NUMBERS: "+44207946xxxx" });
  });
  afterAll(() => t.close());

  it("has no /demo: the demo shows what the virtual phones see", async () => {
    const res = await t.app.inject({ method: "GET", url: "/demo" });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe("NOT_FOUND");
  });
});
