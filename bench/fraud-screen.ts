/**
 * `npm run bench:fraud`: what the fraud controls cost one start and one check, alone in this process (no HTTP, no
 * SIP), so the figure holds however busy the rest of the machine is. It screens distinct numbers the way the load
 * bench sends them (consecutive +447400xxxxxx, one client IP), with the load bench's settings (limits out of reach,
 * so every counter is still kept) and with the production defaults' per-number work, then prints starts/s, µs per
 * start and per check, and the heap the counters hold afterwards.
 *
 * Flags: --count 200000 (screens per pass), --limiter memory|sqlite.
 */
import { loadConfig } from "../src/config.js";
import type { Verification } from "../src/core/types.js";
import { createFraudControls } from "../src/fraud/index.js";
import { openLimiter } from "../src/root/limiter.js";
import { openSqliteStore } from "../src/storage/sqlite.js";
import { flagValue } from "./args.js";
import { PhoneNumbers } from "./phone-numbers.js";
import { BENCH_FRAUD_SETTINGS } from "./server-process.js";

const flag = flagValue;
const count = Number(flag("count", "200000"));
const limiter = flag("limiter", "memory");

const store = openSqliteStore(":memory:");
await store.migrate();
const config = loadConfig({ DATABASE_URL: "sqlite::memory:", ...BENCH_FRAUD_SETTINGS, FRAUD_LIMITER: limiter });
// The counters live where --limiter says, as the server would keep them (src/root/limiter.ts).
const fraud = await createFraudControls(config.fraud, {
  store,
  clock: { now: () => Date.now() },
  limiter: openLimiter(config.scale, store, null),
});
const phones = new PhoneNumbers();
const numbers = Array.from({ length: count }, () => phones.next());

global.gc?.();
const heapBefore = process.memoryUsage().heapUsed;
let refused = 0;
const t0 = process.hrtime.bigint();
for (let i = 0; i < count; i++) {
  const screened = await fraud.screenStart({
    verificationId: `ver_${i}`,
    applicationId: "app_default",
    phone: numbers[i] as string,
    country: "GB",
    numberType: "MOBILE",
    channel: "flashcall",
    client: { ip: "127.0.0.1" },
    ipCountry: null,
    guessProbability: 0.0003,
    now: Date.now(),
  });
  if (!screened.ok) refused++;
  // Every bench verification verifies: the detector sees the conversion it would see.
  else
    fraud.recordVerified({
      applicationId: "app_default",
      phone: numbers[i],
      country: "GB",
      client: null,
    } as Verification);
}
const startNs = Number(process.hrtime.bigint() - t0) / count;
const t1 = process.hrtime.bigint();
for (let i = 0; i < count; i++) {
  await fraud.screenCheck({
    applicationId: "app_default",
    phone: numbers[i] as string,
    ip: "127.0.0.1",
    now: Date.now(),
  });
}
const checkNs = Number(process.hrtime.bigint() - t1) / count;
global.gc?.();
const heapMiB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;

console.log(`# npm run bench:fraud -- --count ${count} --limiter ${limiter}   (node ${process.version})`);
console.log(
  `screenStart: ${(startNs / 1000).toFixed(1)} µs per start (${Math.round(1e9 / startNs)}/s on one core), ${refused} refused`,
);
console.log(`screenCheck: ${(checkNs / 1000).toFixed(1)} µs per check (${Math.round(1e9 / checkNs)}/s on one core)`);
console.log(`heap held by counters and windows after ${count} distinct numbers: ${heapMiB.toFixed(1)} MiB`);
fraud.close();
await store.close();
