/**
 * The web pages (Preact, built by Vite): one multi-page build under web/, written to dist/web and served by the
 * server itself (src/api/routes/web-pages.ts). Each page is a folder web/<name>/ with an index.html; its scripts and
 * styles land in dist/web/assets/ with content hashes, served under /web/assets/.
 */
import { resolve } from "node:path";
import preact from "@preact/preset-vite";
import { defineConfig } from "vite";

/** The pages of the build: adding one is one line here (its folder web/<name>/index.html) and one in web-pages.ts. */
const PAGES = ["demo", "dashboard", "reference"];

export default defineConfig({
  root: resolve(import.meta.dirname, "web"),
  base: "/web/",
  plugins: [preact()],
  build: {
    outDir: resolve(import.meta.dirname, "dist/web"),
    emptyOutDir: true,
    // Old phones are part of the audience (the demo is a phone's view): nothing newer than the platform's SSE/fetch.
    target: "es2020",
    rolldownOptions: {
      input: Object.fromEntries(PAGES.map((page) => [page, resolve(import.meta.dirname, "web", page, "index.html")])),
    },
  },
  // `npm run dev:web`: hot reload at http://localhost:5173/web/demo/, the API from `npm start`'s server on 8080.
  server: { proxy: Object.fromEntries(["/v1", "/sandbox", "/demo/api"].map((p) => [p, "http://127.0.0.1:8080"])) },
});
