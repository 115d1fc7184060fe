/**
 * The web pages, served from the Vite build (dist/web): each page's HTML at its path, never cached so a new build
 * shows at once, and the hashed scripts and styles under /web/assets/, cached for a year since a change gives them
 * a new name; and the widget as one script at /sdk/flashverify-widget.js. A page that is not built answers 503
 * PAGE_NOT_BUILT instead of a blank page.
 */
import { z } from "zod";
import type { Services } from "../../services.js";
import { sendError } from "../errors.js";
import type { RouteRegistration } from "../route-kit.js";
import { readAsset, readPage, readWidgetScript } from "../web-build.js";

interface Page {
  /** where the server serves it */
  path: string;
  /** its folder under web/ (and its entry in vite.config.ts) */
  name: string;
  /** whether this server serves it */
  servedWhen(services: Services): boolean;
}

/** The pages, one line each; a new page is also one line in vite.config.ts. */
const PAGES: Page[] = [
  // The demo shows what the sandbox's virtual phones see, so it exists only where they do.
  { path: "/demo", name: "demo", servedWhen: (s) => s.sandbox !== null },
  // The operator's dashboard: it shows nothing without an API key, so every server serves it.
  { path: "/dashboard", name: "dashboard", servedWhen: () => true },
  // The API reference, laid out from /openapi.json.
  { path: "/docs", name: "reference", servedWhen: () => true },
];

/** Scripts and data from this origin only; styles may be inline (the widget styles its shadow root). */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

export const registerWebPages: RouteRegistration = (app, services) => {
  for (const page of PAGES) {
    if (!page.servedWhen(services)) continue;
    for (const url of [page.path, `${page.path}/`]) {
      app.get(url, { schema: { hide: true } }, async (_request, reply) => {
        const file = await readPage(page.name);
        if (!file) return sendError(reply, { code: "PAGE_NOT_BUILT" });
        return reply
          .type(file.contentType)
          .header("cache-control", "no-cache")
          .header("content-security-policy", CONTENT_SECURITY_POLICY)
          .header("x-content-type-options", "nosniff")
          .header("referrer-policy", "no-referrer")
          .send(file.body);
      });
    }
  }

  // The widget for pages without a bundler. Its name stays the same from build to build, so it is cached briefly.
  app.get("/sdk/flashverify-widget.js", { schema: { hide: true } }, async (_request, reply) => {
    const file = await readWidgetScript();
    if (!file) return sendError(reply, { code: "PAGE_NOT_BUILT" });
    return reply
      .type(file.contentType)
      .header("cache-control", "public, max-age=300")
      .header("x-content-type-options", "nosniff")
      .send(file.body);
  });

  app.get(
    "/web/assets/:file",
    { schema: { hide: true, params: z.object({ file: z.string().min(1).max(200) }) } },
    async (request, reply) => {
      const file = await readAsset(request.params.file);
      if (!file) return sendError(reply, { code: "NOT_FOUND" });
      return reply
        .type(file.contentType)
        .header("cache-control", "public, max-age=31536000, immutable")
        .header("x-content-type-options", "nosniff")
        .send(file.body);
    },
  );
};
