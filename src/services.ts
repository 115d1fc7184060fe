/**
 * The composition root: reads the configuration and picks an implementation for every port (store, channels,
 * clock), plus the sandbox's virtual carrier when it is on. Routes and the CLI receive this one object.
 */

import { EventLoopLag } from "./api/load-shedding.js";
import { createFlashcallSipChannel } from "./channels/flashcall-sip/index.js";
import { type Config, SANDBOX_POOL_NUMBERS } from "./config.js";
import { ApiKeys, DEFAULT_APPLICATION_ID } from "./core/api-keys.js";
import { CodeHasher } from "./core/codes.js";
import { newSecret } from "./core/ids.js";
import { PoolRegistry } from "./core/pool-registry.js";
import { type Clock, type Store, systemClock } from "./core/ports.js";
import { VerificationService } from "./core/verification-service.js";
import { VirtualHandsets } from "./sandbox/handsets.js";
import { startSipUacWorker } from "./sip/uac-worker.js";
import { openStore } from "./storage/index.js";
import { lockDatabaseForServer } from "./storage/server-lock.js";

export interface Services {
  config: Config;
  clock: Clock;
  store: Store;
  apiKeys: ApiKeys;
  pools: PoolRegistry;
  verifications: VerificationService;
  sandbox: { handsets: VirtualHandsets } | null;
  /** event-loop lag, for shedding new verifications under overload */
  lag: EventLoopLag;
  /** stops background work, channels and the store */
  close(): Promise<void>;
}

export interface ServiceOverrides {
  clock?: Clock;
  /** receives failures of background work; default: printed to stderr */
  onBackgroundError?: (error: unknown, context: string) => void;
}

export const DEFAULT_POOL_ID = "pool_default";

export async function createServices(config: Config, overrides: ServiceOverrides = {}): Promise<Services> {
  const clock = overrides.clock ?? systemClock;
  const unlock = lockDatabaseForServer(config.DATABASE_URL);
  const store = openStore(config.DATABASE_URL);
  await store.migrate();

  // Without a configured secret, one is generated once and kept in the database, so codes survive restarts.
  const secret = config.FLASHVERIFY_SECRET ?? (await store.getOrCreateSetting("code_secret", newSecret("fvs", 32)));
  const hasher = new CodeHasher(secret);

  const apiKeys = new ApiKeys(store, clock);
  await store.ensureApplication({ id: DEFAULT_APPLICATION_ID, name: "default", createdAt: clock.now() });
  if (config.FLASHVERIFY_API_KEY) await apiKeys.register(DEFAULT_APPLICATION_ID, config.FLASHVERIFY_API_KEY, "env");

  const poolNumbers = config.POOL_NUMBERS ?? (config.SANDBOX === "on" ? SANDBOX_POOL_NUMBERS : undefined);
  if (poolNumbers) {
    await store.upsertPool({
      id: DEFAULT_POOL_ID,
      name: "default",
      numbers: poolNumbers,
      codeLength: config.POOL_CODE_LENGTH,
      countries: config.POOL_COUNTRIES,
      createdAt: 0,
    });
  }
  const pools = new PoolRegistry(store);
  await pools.refresh();

  const sandbox =
    config.SANDBOX === "on"
      ? {
          handsets: await VirtualHandsets.create({
            address: config.SANDBOX_SIP_ADDRESS,
            port: config.SANDBOX_SIP_PORT,
          }),
        }
      : null;

  const target = sandbox
    ? { host: sandbox.handsets.local.address, port: sandbox.handsets.local.port }
    : { host: config.SIP_TRUNK_HOST as string, port: config.SIP_TRUNK_PORT };
  const onBackgroundError =
    overrides.onBackgroundError ??
    ((error: unknown, context: string) => console.error(`flashverify: background ${context} failed:`, error));

  // The UAC runs in its own thread so that SIP timing (retransmissions, CANCELs, reading the socket before the
  // kernel drops datagrams) holds however busy HTTP and SQLite keep this one. Its timers use real time.
  const uac = await startSipUacWorker({
    localAddress: config.SIP_LOCAL_ADDRESS ?? (sandbox ? "127.0.0.1" : "0.0.0.0"),
    localPort: config.SIP_LOCAL_PORT,
    target,
    ...(config.SIP_DOMAIN ? { domain: config.SIP_DOMAIN } : {}),
    t1Ms: config.SIP_T1_MS,
    onError: (error) => onBackgroundError(error, "SIP worker"),
  });

  const flashcall = createFlashcallSipChannel({
    uac,
    ringTimeMs: config.SIP_RING_TIME_MS,
    maxDialMs: config.SIP_MAX_DIAL_MS,
    onError: (error) => onBackgroundError(error, "flash call"),
  });

  const verifications = new VerificationService({
    store,
    clock,
    hasher,
    pools,
    channels: { flashcall },
    settings: {
      flashcallTtlMs: config.FLASHCALL_TTL_SECONDS * 1000,
      verificationTtlMs: config.VERIFICATION_TTL_SECONDS * 1000,
      flashcallMaxChecks: config.FLASHCALL_MAX_CHECKS,
      clientTokenGraceMs: 10 * 60_000,
    },
    onBackgroundError,
  });

  // Before any call is placed: attempts a previous process left in flight have no call behind them any more.
  await verifications.recoverInterrupted();
  const lag = new EventLoopLag(config.OVERLOAD_MAX_LAG_MS);

  return {
    config,
    clock,
    store,
    apiKeys,
    pools,
    verifications,
    sandbox,
    lag,
    async close() {
      lag.close();
      await flashcall.close();
      await sandbox?.handsets.close();
      await store.close();
      unlock();
    },
  };
}
