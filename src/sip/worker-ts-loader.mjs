/**
 * Node module hooks that let a worker thread run this project's TypeScript sources unbuilt. Vitest transforms the
 * modules of its own thread but not those of a worker it did not start, and Node 20 cannot strip types itself.
 *
 * Registered by spawn-module-worker.ts only when the spawning module is itself a .ts file (tests); the built server
 * never loads this. The transpiler is the Vite that Vitest runs on (Oxc in Vite 8, esbuild before), resolved from
 * Vitest's own location, so it is whatever Vitest uses for the same files and no dependency is added.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

/** @type {(code: string, path: string) => Promise<string>} */
let transpile;

export async function initialize() {
  const fromHere = createRequire(import.meta.url);
  const fromVitest = createRequire(fromHere.resolve("vitest/package.json"));
  const vite = await import(pathToFileURL(fromVitest.resolve("vite")).href);
  transpile = vite.transformWithOxc
    ? async (code, path) => (await vite.transformWithOxc(code, path, { lang: "ts" })).code
    : async (code, path) =>
        (await vite.transformWithEsbuild(code, path, { loader: "ts", format: "esm", target: "node20" })).code;
}

/** Sources import "./x.js" for "./x.ts" (NodeNext style); before a build only the .ts exists. */
export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const relative = specifier.startsWith("./") || specifier.startsWith("../");
    if (error?.code !== "ERR_MODULE_NOT_FOUND" || !relative || !specifier.endsWith(".js")) throw error;
    if (!context.parentURL?.endsWith(".ts")) throw error;
    return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
  }
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith("file:") || !url.endsWith(".ts")) return nextLoad(url, context);
  const path = fileURLToPath(url);
  const source = await transpile(await readFile(path, "utf8"), path);
  return { format: "module", source, shortCircuit: true };
}
