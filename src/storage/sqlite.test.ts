import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { runStoreConformance } from "./conformance.js";
import { openSqliteStore } from "./sqlite.js";

runStoreConformance("sqlite in memory", async () => openSqliteStore(":memory:"));

const dir = mkdtempSync(join(tmpdir(), "flashverify-sqlite-"));
let n = 0;
runStoreConformance("sqlite file (WAL)", async () => openSqliteStore(join(dir, `db-${n++}.sqlite`)));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
