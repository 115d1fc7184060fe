/**
 * The widget as a single ES module (sdk/src/widget/standalone.ts → dist/web/sdk/flashverify-widget.js), for pages
 * that load it with a script tag instead of bundling the SDK. Built after the pages (`npm run build:web`), into the
 * same dist/web, which that build empties first.
 */
import { resolve } from "node:path";
import { defineConfig } from "vite";

export default defineConfig({
  build: {
    outDir: resolve(import.meta.dirname, "dist/web/sdk"),
    emptyOutDir: false,
    minify: true,
    target: "es2020",
    lib: {
      entry: resolve(import.meta.dirname, "sdk/src/widget/standalone.ts"),
      formats: ["es"],
      fileName: () => "flashverify-widget.js",
    },
  },
});
