import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { runReviewNumberStoreConformance } from "../../test/conformance/review-number-store.js";
import { runSinchStoreConformance } from "../../test/conformance/sinch-store.js";
import { runStoreConformance } from "../../test/conformance/store.js";
import { openSqliteStore } from "./sqlite.js";

const dir = mkdtempSync(join(tmpdir(), "flashverify-sqlite-"));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

runStoreConformance("sqlite in memory", async () => openSqliteStore(":memory:"));
runStoreConformance("sqlite file (WAL)", async () => openSqliteStore(join(dir, `db-${n++}.sqlite`)));
runSinchStoreConformance("sqlite in memory", async () => openSqliteStore(":memory:"));
runReviewNumberStoreConformance("sqlite in memory", async () => openSqliteStore(":memory:"));
