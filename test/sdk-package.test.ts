/**
 * The SDK as a package: `npm pack` in sdk/ builds it (ESM and type declarations) into a tarball, which an empty
 * project installs and imports by name, the widget included. A script of that project runs a verification through
 * it against a real server (the sandbox's SIP handsets), and the project's TypeScript type-checks against the
 * shipped declarations.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { type RunningServer, startServer } from "../src/server.js";

const run = promisify(execFile);
const ADDRESS = "127.0.0.124";
const KEY = "fv_sdk_package_test_key_0123456789";
const ROOT = resolve(import.meta.dirname, "..");
const dir = mkdtempSync(join(tmpdir(), "flashverify-sdk-package-"));
const project = join(dir, "project");

/** What the empty project runs: start, read the missed call off the handset, check its last digits. */
const CONSUMER = `
import { codeFromCallerId, createClient } from "@flashverify/sdk";
import { ENGLISH, FlashverifyWidget, screenOf } from "@flashverify/sdk/widget";

const [base, key, phone] = process.argv.slice(2);
const client = createClient({ baseUrl: base, token: key });
const started = await client.start({ phone, client: { ip: "203.0.113.9" } });
let from;
for (let i = 0; i < 400 && !from; i++) {
  const handset = await (await fetch(base + "/sandbox/phones/" + encodeURIComponent(phone))).json();
  from = handset.calls.find((c) => c.result === "missed")?.from;
  if (!from) await new Promise((r) => setTimeout(r, 50));
}
const checked = await client.check(started.id, { code: codeFromCallerId(from, started.flashcall.pattern) });
const screen = screenOf(await client.get(started.id), ENGLISH).kind;
console.log(JSON.stringify({ status: checked.status, screen, widget: typeof FlashverifyWidget }));
`;

/** The same imports in TypeScript, checked against the declarations the tarball ships. */
const TYPED = `
import { createClient, FlashverifyError, type Verification } from "@flashverify/sdk";
import { defineFlashverifyWidget, type WidgetStrings } from "@flashverify/sdk/widget";

const client = createClient({ baseUrl: "http://127.0.0.1:8080", token: "fv_..." });
export async function phoneOf(id: string): Promise<string | null> {
  const v: Verification = await client.get(id);
  return v.phone;
}
export const strings: Partial<WidgetStrings> = { verify: "Vérifier" };
export const isError = (e: unknown): e is FlashverifyError => e instanceof FlashverifyError;
defineFlashverifyWidget();
// @ts-expect-error: the declarations are strict, so a wrong field is caught
client.start({ phone: "+447400123456", client: { ip: 42 } });
`;

describe("the SDK package", () => {
  let server: RunningServer;
  beforeAll(async () => {
    await run("npm", ["pack", "--pack-destination", dir], { cwd: join(ROOT, "sdk") });
    const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz"));
    expect(tarball).toBe("flashverify-sdk-0.1.0.tgz");
    await run("mkdir", [project]);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    await run("npm", ["install", "--offline", "--no-audit", "--no-fund", join(dir, tarball as string)], {
      cwd: project,
    });
    server = await startServer(
      loadConfig({
        DATABASE_URL: `sqlite:${join(dir, "flashverify.db")}`,
        HOST: ADDRESS,
        PORT: "0",
        SANDBOX_SIP_ADDRESS: ADDRESS,
        SIP_LOCAL_ADDRESS: ADDRESS,
        SANDBOX_SIP_PORT: "0",
        SANDBOX_SMPP_PORT: "0",
        SANDBOX_SMTP_PORT: "0",
        SIP_RING_TIME_MS: "200",
        FLASHVERIFY_API_KEY: KEY,
        LOG_LEVEL: "silent",
        OVERLOAD_MAX_LAG_MS: "0",
      }),
    );
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("installs from its tarball into an empty project and verifies a number through the server", async () => {
    writeFileSync(join(project, "consumer.mjs"), CONSUMER);
    const { stdout } = await run(process.execPath, ["consumer.mjs", server.url, KEY, "+447400124001"], {
      cwd: project,
      timeout: 60_000,
    });
    expect(JSON.parse(stdout)).toEqual({ status: "verified", screen: "verified", widget: "function" });
  }, 90_000);

  it("ships type declarations a TypeScript project checks against", async () => {
    writeFileSync(join(project, "typed.ts"), TYPED);
    const tsconfig = {
      compilerOptions: {
        module: "NodeNext",
        moduleResolution: "NodeNext",
        target: "ES2022",
        lib: ["ES2022", "DOM"],
        types: [],
        strict: true,
        noEmit: true,
      },
      files: ["typed.ts"],
    };
    writeFileSync(join(project, "tsconfig.json"), JSON.stringify(tsconfig));
    const tsc = join(ROOT, "node_modules", ".bin", "tsc");
    const result = await run(tsc, ["-p", project]).then(
      () => "",
      (error: { stdout: string }) => error.stdout,
    );
    expect(result).toBe("");
  }, 60_000);
});
