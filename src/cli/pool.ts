/** `flashverify pool add`: add or replace a caller-ID pool; a running server picks it up within 10 s. */

import type { Config } from "../config.js";
import { newId } from "../core/ids.js";
import { NumberPool, validatePool } from "../core/pool.js";
import { openStore } from "../storage/index.js";

export interface PoolAddOptions {
  numbers?: string;
  "code-length"?: string;
  countries?: string;
  name?: string;
  id?: string;
}

const list = (s: string) =>
  s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);

export async function poolAdd(config: Config, options: PoolAddOptions): Promise<number> {
  if (!options.numbers) {
    console.error("--numbers is required, e.g. --numbers +4420794xxxxx,+442079460123");
    return 2;
  }
  const definition = {
    id: options.id ?? newId("pool"),
    name: options.name ?? "pool",
    numbers: list(options.numbers),
    codeLength: Number(options["code-length"] ?? "4"),
    countries: list(options.countries ?? "*").map((c) => (c === "*" ? c : c.toUpperCase())),
  };
  const problem = validatePool(definition);
  if (problem) {
    console.error(`invalid pool: ${problem}`);
    return 2;
  }
  const pool = new NumberPool(definition);
  const store = openStore(config.DATABASE_URL);
  try {
    await store.migrate();
    await store.upsertPool({ ...definition, createdAt: Date.now() });
  } finally {
    await store.close();
  }
  console.log(
    `pool ${pool.id}: ${pool.size} numbers, ${pool.codeLength}-digit codes, at least ${pool.fewestCodesPerPrefix} ` +
      `codes behind any shown prefix, worst-case guess probability with ${config.FLASHCALL_MAX_CHECKS} checks: ` +
      (config.FLASHCALL_MAX_CHECKS / pool.fewestCodesPerPrefix).toExponential(2),
  );
  return 0;
}
