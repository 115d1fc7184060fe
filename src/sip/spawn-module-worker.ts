/**
 * Starts a worker thread on a module that sits next to the caller's: its compiled JavaScript when the caller runs
 * from the build (`dist/`), or its TypeScript source when the caller is itself a .ts file (under Vitest, which
 * transforms only the modules of its own thread). Then the thread first registers Node module hooks
 * (worker-ts-loader.mjs) that transpile the sources with the Vite that Vitest brings; the built server never
 * loads them.
 *
 * @example
 * // in src/sip/uac-worker.ts
 * const worker = spawnModuleWorker(import.meta.url, "./uac-worker-thread", { options });
 */
import { Worker } from "node:worker_threads";

/** `module` is relative to `from` (the caller's import.meta.url), without its extension. */
export function spawnModuleWorker(from: string, module: string, workerData: unknown): Worker {
  if (!from.endsWith(".ts")) return new Worker(new URL(`${module}.js`, from), { workerData });
  const hooks = new URL("./worker-ts-loader.mjs", import.meta.url).href;
  const entry = new URL(`${module}.ts`, from).href;
  const bootstrap = `import { register } from "node:module";
register(${JSON.stringify(hooks)});
await import(${JSON.stringify(entry)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`), { workerData });
}
