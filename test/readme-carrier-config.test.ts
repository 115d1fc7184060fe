/** The worked trunk configuration in the README's "Connecting a carrier" is a configuration the server accepts. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { loadConfig } from "../src/config.js";

it("loads the README's carrier configuration", () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf("## Connecting a carrier"));
  const json = /```json\n([\s\S]*?)\n```/.exec(section)?.[1];
  expect(json).toBeDefined();
  const dir = mkdtempSync(join(tmpdir(), "fv-readme-"));
  try {
    const file = join(dir, "config.json");
    writeFileSync(file, json as string);
    const config = loadConfig({ FLASHVERIFY_CONFIG: file });
    expect(config.SIP_TRUNKS?.map((t) => t.id)).toEqual(["carrier-a", "carrier-b"]);
    expect(config.SIP_TRUNKS?.[0]).toMatchObject({ transport: "tls", stir_shaken: { attest: "A" }, max_cps: 200 });
    expect(config.SIP_ROUTES).toHaveLength(2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
