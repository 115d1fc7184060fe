/**
 * The Vite build of the web pages (dist/web, from web/ by `npm run build`): where it is, and reading its files
 * with their content types. The server serves it itself, so `npm start` needs no second process or proxy.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The package's folder: the nearest one above this file with a package.json. The same from the sources
 * (src/api/) and from the compiled server (dist/src/api/), so both serve the one build in dist/web.
 */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("flashverify's package.json was not found above the server's files");
    dir = parent;
  }
  return dir;
}

export const WEB_BUILD_DIR = join(packageRoot(), "dist", "web");

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
};

/** A file name Vite writes to assets/: no folders, no leading dot, so a request cannot leave the folder. */
export const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;

export interface WebFile {
  body: Buffer;
  contentType: string;
}

/** A page's index.html, or null when the build has no such page (not built yet, or not listed in vite.config.ts). */
export function readPage(name: string): Promise<WebFile | null> {
  return readWebFile(join(WEB_BUILD_DIR, name, "index.html"));
}

/** A hashed asset of the build, or null when there is none by that name. */
export function readAsset(name: string): Promise<WebFile | null> {
  if (!ASSET_NAME.test(name)) return Promise.resolve(null);
  return readWebFile(join(WEB_BUILD_DIR, "assets", name));
}

/** The widget built as one script (vite.widget.config.ts), or null when it is not built. */
export function readWidgetScript(): Promise<WebFile | null> {
  return readWebFile(join(WEB_BUILD_DIR, "sdk", "flashverify-widget.js"));
}

async function readWebFile(path: string): Promise<WebFile | null> {
  try {
    const body = await readFile(path);
    return { body, contentType: CONTENT_TYPES[extname(path)] ?? "application/octet-stream" };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}
