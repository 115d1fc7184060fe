/**
 * The composition root: reads the configuration and picks an implementation for every port (store, channels,
 * clock), plus the sandbox's virtual carrier when it is on. Routes and the CLI receive this one object.
 */

import { EventLoopLag } from "./api/load-shedding.js";
import { type CallSummary, createFlashcallSipChannel } from "./channels/flashcall-sip/index.js";
import { MESSAGE_CHANNELS, type MessageChannelName } from "./channels/registry.js";
import type { ReverseFlashcallChannel } from "./channels/reverse-flashcall/index.js";
import { type Config, ConfigError } from "./config.js";
import { ApiKeys, DEFAULT_APPLICATION_ID } from "./core/api-keys.js";
import { Applications } from "./core/applications.js";
import { CodeHasher } from "./core/codes.js";
import type { DeliveryMeasure } from "./core/delivery-measure.js";
import { newSecret } from "./core/ids.js";
import { OperatorStats } from "./core/operator-stats.js";
import { PoolAdmin } from "./core/pool-admin.js";
import { PoolRegistry } from "./core/pool-registry.js";
import { type Clock, type MessageChannel, systemClock } from "./core/ports.js";
import { RATE_CARD, type RateCard, withOverrides } from "./core/rate-card.js";
import { Retention } from "./core/retention.js";
import { ReviewNumbers } from "./core/review-numbers.js";
import { SinchCredentials } from "./core/sinch-credentials.js";
import { TemplateBook } from "./core/templates/template-book.js";
import type { WorkflowStep } from "./core/types.js";
import { VerificationService } from "./core/verification-service.js";
import { DEFAULT_STEP_TIMEOUT_MS } from "./core/workflow.js";
import { CallbackDecider } from "./events/decision-callback.js";
import { type EventHub, LocalEventHub } from "./events/event-hub.js";
import { EventLog } from "./events/event-log.js";
import { RedisEventHub } from "./events/redis-event-hub.js";
import { SinchCallbacks } from "./events/sinch-callbacks.js";
import { StreamCaps } from "./events/stream-caps.js";
import { TimerWorker } from "./events/timer-worker.js";
import { WebhookEndpoints } from "./events/webhook-endpoints.js";
import { WebhookWorker } from "./events/webhook-worker.js";
import { createFraudControls, type FraudControls } from "./fraud/index.js";
import type { LimiterBackend } from "./fraud/limiter.js";
import { Metrics } from "./metrics/index.js";
import { CloseStack, once } from "./root/close-stack.js";
import { autoChoiceFor, startDeliveryMeasure } from "./root/delivery.js";
import { openLimiter } from "./root/limiter.js";
import { Outages } from "./root/outages.js";
import { type Sandbox, startSandbox } from "./root/sandbox.js";
import { startTrunks, trunkConfigs, trunkTargets } from "./root/trunks.js";
import type { SipTraceEntry } from "./sip/trace.js";
import type { TrunkEvent } from "./sip/trunks/index.js";
import { type AppStore, openStore } from "./storage/index.js";
import type { OutageReport } from "./storage/outage.js";
import { openRedis } from "./storage/redis.js";
import { leaseDatabaseForServer } from "./storage/server-lock.js";

export interface Services {
  config: Config;
  /** the trunks flash calls go to, as the startup log lists them */
  trunks: Array<{ id: string; target: string; transport: string }>;
  /** the retention job and erasure on request */
  retention: Retention;
  /** the shipped list prices with RATE_CARD's entries over them */
  rateCard: RateCard;
  clock: Clock;
  store: AppStore;
  apiKeys: ApiKeys;
  /** Sinch credential pairs, for the Sinch-compatible Verification API */
  sinchCredentials: SinchCredentials;
  /** applications, and which of them is the operator's */
  applications: Applications;
  pools: PoolRegistry;
  /** adding pools and numbers from the API */
  poolAdmin: PoolAdmin;
  /** the dashboard's statistics */
  stats: OperatorStats;
  /** delivery per network and trunk: what workflow auto and the trunk order go by */
  delivery: DeliveryMeasure;
  verifications: VerificationService;
  /** each application's message templates and default language */
  templates: TemplateBook;
  /** each application's review numbers (fixed codes, nothing sent) */
  reviewNumbers: ReviewNumbers;
  /** who hears about committed events (SSE streams, the webhook worker) */
  events: EventHub;
  /** caps on open SSE streams, per process, application and verification */
  streamCaps: StreamCaps;
  eventLog: EventLog;
  webhookEndpoints: WebhookEndpoints;
  decisions: CallbackDecider;
  /** started by the server (startWorkers); tests drive them by hand */
  webhooks: WebhookWorker;
  timers: TimerWorker;
  /** starts the webhook and timer workers */
  startWorkers(): void;
  /** the configured message channels (SMS, WhatsApp, email), for their delivery-report webhooks */
  messageChannels: Partial<Record<MessageChannelName, MessageChannel>>;
  /** rate limits, number policy, pumping detector, risk scoring, blocks and allow list */
  fraud: FraudControls;
  sandbox: Sandbox | null;
  /** Prometheus metrics, served at /metrics */
  metrics: Metrics;
  /** event-loop lag, for shedding new verifications under overload */
  lag: EventLoopLag;
  /** set by a graceful shutdown: /readyz answers 503 so that load balancers stop sending */
  draining: boolean;
  /**
   * The database and Redis while they cannot be reached: requests that fail for it are answered 503, and the log
   * says once when each went away and once when it came back.
   */
  outages: Outages;
  /**
   * Stops background work, lets calls in progress ring on for up to `graceMs` (default 0) and hangs up the rest,
   * writes every outcome, then closes the channels and the store.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

export interface ServiceOverrides {
  clock?: Clock;
  /** receives failures of background work; default: printed to stderr */
  onBackgroundError?: (error: unknown, context: string) => void;
  /** a carrier trunk went out of service or came back; default: printed to stderr */
  onTrunkEvent?: (event: TrunkEvent) => void;
  /** how each flash call ended (trunk, final code, reason, timings); default: not reported */
  onCallEnded?: (summary: CallSummary) => void;
  /** the SIP trace of each trunk, when SIP_TRACE is on; default: printed to stderr */
  onSipTrace?: (trunk: string, entries: SipTraceEntry[]) => void;
  /** the fraud controls' limiter backend; default per FRAUD_LIMITER */
  limiterBackend?: LimiterBackend;
  /** the database or Redis went away (`up` false) or came back; default: printed to stderr */
  onOutage?: (up: boolean, report: OutageReport) => void;
}

export const DEFAULT_POOL_ID = "pool_default";

/**
 * Acquires in order (the database lease, the store, the virtual carrier, the trunks' threads, the channels, Redis,
 * the workers); what one step acquired is released, in reverse order, when a later one throws, and by `close()`.
 */
export async function createServices(config: Config, overrides: ServiceOverrides = {}): Promise<Services> {
  const stack = new CloseStack();
  try {
    return await assemble(config, overrides, stack);
  } catch (error) {
    await stack.close((e, name) => console.error(`flashverify: closing ${name} after a failed start failed:`, e));
    throw error;
  }
}

async function assemble(config: Config, overrides: ServiceOverrides, stack: CloseStack): Promise<Services> {
  const clock = overrides.clock ?? systemClock;
  const { scale } = config;
  const lease = await leaseDatabaseForServer(scale.databaseUrl, {
    onLost: (holder) =>
      console.error(`flashverify: another server (${holder}) took this database's lease while this one was stalled`),
  });
  stack.defer("database lease", () => lease.release());
  const store = openStore(scale.databaseUrl);
  stack.defer("store", () => store.close());
  await store.migrate();

  // Without a configured secret, one is generated once and kept in the database, so codes survive restarts.
  const secret = config.FLASHVERIFY_SECRET ?? (await store.getOrCreateSetting("code_secret", newSecret("fvs", 32)));
  const hasher = new CodeHasher(secret);

  const apiKeys = new ApiKeys(store, clock);
  const sinchCredentials = new SinchCredentials(store.sinch, clock, secret);
  await store.ensureApplication({ id: DEFAULT_APPLICATION_ID, name: "default", createdAt: clock.now() });
  if (config.FLASHVERIFY_API_KEY) await apiKeys.register(DEFAULT_APPLICATION_ID, config.FLASHVERIFY_API_KEY, "env");

  if (config.pool) await store.upsertPool({ id: DEFAULT_POOL_ID, name: "default", ...config.pool, createdAt: 0 });
  const pools = new PoolRegistry(store);
  await pools.refresh();
  if (!config.sandbox && pools.all.length === 0) {
    throw new ConfigError(
      "SANDBOX=off and no caller-ID pool: every flash call would be refused with NO_POOL_FOR_DESTINATION. Set " +
        "POOL_NUMBERS to numbers your trunk may present (ranges like +44207946xxxx), or add a pool first with " +
        "`flashverify pool add --numbers ...`",
    );
  }

  const messageChannels: Partial<Record<MessageChannelName, MessageChannel>> = {};
  const sandbox =
    config.sandbox &&
    (await startSandbox(
      config.sandbox,
      stack,
      (channel) => (payload) => messageChannels[channel]?.handleReceipt?.(payload),
    ));
  const metrics = new Metrics();
  metrics.watch({ store, pools, clock });
  const outages = new Outages(
    metrics,
    overrides.onOutage ??
      ((up, report) =>
        console.error(`flashverify: ${report.dependency} ${up ? "is back" : "cannot be reached"}`, report)),
    overrides.onBackgroundError ??
      ((error, context) => console.error(`flashverify: background ${context} failed:`, error)),
    () => store.ping(),
  );
  stack.defer("outage probes", () => outages.close());
  const onBackgroundError = outages.onBackgroundError;

  // Delivery per network and trunk, measured from every node's outcomes and reports, shared through the database.
  const delivery = await startDeliveryMeasure(config.delivery, {
    store: store.delivery,
    clock,
    onError: (error) => onBackgroundError(error, "delivery measurement"),
  });
  stack.defer("delivery measurement", () => delivery.stop());

  const trunks = trunkConfigs(config.trunks, config.sip, sandbox?.handsets.local ?? null);
  const uac = await startTrunks(config.sip, config.voice, trunks, {
    metrics,
    judge: (to, trunk) => delivery.trunkJudgement(to, trunk),
    onError: onBackgroundError,
    onTrunkEvent: overrides.onTrunkEvent,
    onSipTrace: overrides.onSipTrace,
  });
  const closeUac = once(() => uac.close());
  stack.defer("SIP trunks", closeUac);

  for (const [name, create] of Object.entries(MESSAGE_CHANNELS)) {
    const channel = create(config, sandbox, {
      caller: uac,
      onError: (error) => onBackgroundError(error, `${name} channel`),
    });
    if (channel) messageChannels[name as MessageChannelName] = channel;
  }
  const closeChannels = once(async () => {
    await Promise.all(Object.values(messageChannels).map((channel) => channel.close()));
  });
  stack.defer("message channels", closeChannels);
  const defaultWorkflow: WorkflowStep[] | "auto" =
    config.WORKFLOW === "auto"
      ? "auto"
      : config.WORKFLOW.map((step) => {
          if (step.channel !== "flashcall" && !messageChannels[step.channel]) {
            throw new Error(`WORKFLOW: the ${step.channel} channel is not configured`);
          }
          const fallback =
            step.channel === "flashcall" ? config.FLASHCALL_TTL_SECONDS * 1000 : DEFAULT_STEP_TIMEOUT_MS[step.channel];
          return { channel: step.channel, timeoutMs: step.timeout === undefined ? fallback : step.timeout * 1000 };
        });

  const flashcall = createFlashcallSipChannel({
    uac,
    ringTimeMs: config.sip.ringTimeMs,
    maxDialMs: config.sip.maxDialMs,
    onError: (error) => onBackgroundError(error, "flash call"),
    ...(overrides.onCallEnded ? { onCallEnded: overrides.onCallEnded } : {}),
  });
  // The flash-call channel owns the trunk router from here: closing it hangs up the calls and closes the trunks.
  const closeFlashcall = once(() => flashcall.close());
  stack.defer("flash calls", async () => {
    await closeFlashcall();
    await closeUac();
  });

  // With Redis, limits are shared and live events fan out to every process; without, both stay in this one.
  const redis = scale.redis && (await openRedis(scale.redis.url, (error) => onBackgroundError(error, "Redis")));
  if (redis) {
    stack.defer("Redis", () => redis.close());
    const commands = redis.commands;
    outages.watchRedis(() => commands.ping());
  }
  const events: EventHub =
    redis && scale.redis
      ? await RedisEventHub.start(redis.commands, redis.subscriber, {
          channel: `${scale.redis.prefix}:events`,
          onError: (error) => onBackgroundError(error, "event fan-out"),
        })
      : new LocalEventHub();
  const { allowed, maxConnections } = config.webhooks;
  const sinchCallbacks = new SinchCallbacks({
    signingPair: (applicationId) => sinchCredentials.signingPair(applicationId),
    verification: (id) => store.getVerification(id),
  });
  const decisions = new CallbackDecider({
    store: store.webhooks,
    clock,
    allowed,
    maxConnections,
    sinch: sinchCallbacks,
  });
  const rateCard = withOverrides(RATE_CARD, config.RATE_CARD);
  const fraud = await createFraudControls(config.fraud, {
    store,
    clock,
    rateCard,
    limiter: openLimiter(scale, store, redis?.commands ?? null, overrides.limiterBackend),
    onError: onBackgroundError,
  });
  stack.defer("fraud controls", () => fraud.close());

  const templates = new TemplateBook(store.templates, clock, config.texts);
  const reverse = messageChannels.reverse_flashcall as ReverseFlashcallChannel | undefined;
  const reviewNumbers = new ReviewNumbers(store.reviewNumbers, clock);
  const channels = { flashcall, ...messageChannels };
  const verifications = new VerificationService({
    store,
    clock,
    hasher,
    reviewNumbers,
    pools,
    channels,
    auto: autoChoiceFor(config.delivery, delivery, rateCard, channels),
    fraud,
    texts: templates,
    rateCard,
    settings: {
      defaultWorkflow,
      otpLength: config.OTP_LENGTH,
      otpMaxChecks: config.OTP_MAX_CHECKS,
      flashcallTtlMs: config.FLASHCALL_TTL_SECONDS * 1000,
      verificationTtlMs: config.VERIFICATION_TTL_SECONDS * 1000,
      flashcallMaxChecks: config.FLASHCALL_MAX_CHECKS,
      clientTokenGraceMs: 10 * 60_000,
      // Longer than any call the SIP channels place: dial limit or Timer B, then the ring (for a voice call its
      // answer timeout and its length), then CANCEL's or BYE's Timer F.
      attemptDeadlineMs: (channel) =>
        Math.max(config.SIP_MAX_DIAL_MS, 64 * config.SIP_T1_MS) +
        (channel === "voice" ? config.VOICE_ANSWER_TIMEOUT_MS + config.VOICE_MAX_CALL_MS : config.SIP_RING_TIME_MS) +
        64 * config.SIP_T1_MS +
        5000,
    },
    events,
    observer: (committed, verification) => {
      metrics.recorded(committed);
      delivery.observe(committed, verification);
    },
    decisions,
    onBackgroundError,
    reverse: reverse && {
      inbound: reverse.pool,
      ...reverse.policies(fraud.limiter),
      // SQLite has one server per database (its lease): every live reverse flash call was opened by this process.
      poolIsComplete: config.DATABASE_URL.startsWith("sqlite:"),
    },
  });
  // Before the fraud controls, Redis and the store close: calls ring on to their own end for up to the grace
  // close() was given, the rest are hung up (CANCEL) and their records settled, and every outcome is written.
  let graceMs = 0;
  stack.defer("calls in progress", async () => {
    if (graceMs > 0) await flashcall.settle(graceMs);
    await closeFlashcall();
    await closeChannels();
    await verifications.settled();
  });
  if (reverse && verifications.reverseCalls) {
    await reverse.listen({
      calls: verifications.reverseCalls,
      held: await store.liveReverseAttempts(clock.now()),
      onOutcome: (outcome) => metrics.inboundCalls.inc({ outcome }),
      onError: (error) => onBackgroundError(error, "inbound SIP"),
      t1Ms: config.SIP_T1_MS,
    });
  }

  // SQLite has one server per database (the lease above), so before any call is placed it settles the attempts a
  // previous process left in flight and releases the claims it held. On PostgreSQL other nodes may be running:
  // their work is theirs, and a dead node's is settled by the durable timers (an attempt past its deadline) and
  // by claims that lapse.
  if (scale.singleServer) {
    await verifications.recoverInterrupted();
    await store.releaseAllClaims();
  }

  const webhooks = new WebhookWorker({
    sinch: sinchCallbacks,
    store: store.webhooks,
    clock,
    allowed,
    timeoutMs: config.webhooks.timeoutMs,
    pollMs: config.webhooks.pollMs,
    maxConnections,
    onError: (error) => onBackgroundError(error, "webhook delivery"),
  });
  const timers = new TimerWorker({
    advanceDue: (limit) => verifications.advanceDue(limit),
    intervalMs: config.TIMER_INTERVAL_MS,
    onError: (error) => onBackgroundError(error, "timers"),
  });
  const retention = new Retention({
    store: store.retentionStore(),
    clock,
    days: { default: config.RETENTION_DAYS, applications: config.RETENTION_APPLICATIONS },
    verifications,
    onError: (error) => onBackgroundError(error, "retention"),
  });
  // Work under way finishes: fired timers are rewritten and deliveries sent or released, so nothing stays claimed
  // for another node to wait out. What is written from here on is left to the next worker, on any node.
  stack.defer("workers", () => Promise.all([timers.stop(), webhooks.stop(), retention.stop()]));
  const stopKicking = events.onAny(() => webhooks.kick());
  stack.defer("webhook kicks", stopKicking);
  const lag = new EventLoopLag(config.OVERLOAD_MAX_LAG_MS);
  stack.defer("event-loop lag", () => lag.close());

  const webhookEndpoints = new WebhookEndpoints(store.webhooks, clock, allowed);
  return {
    config,
    trunks: trunkTargets(trunks),
    clock,
    store,
    apiKeys,
    sinchCredentials,
    applications: new Applications(store, apiKeys, clock),
    pools,
    poolAdmin: new PoolAdmin({
      store,
      registry: pools,
      clock,
      flashcallMaxChecks: config.FLASHCALL_MAX_CHECKS,
      maxGuessProbability: fraud.settings.maxGuessProbability,
      configured: new Set(config.pool ? [DEFAULT_POOL_ID] : []),
    }),
    stats: new OperatorStats({
      store: store.operator,
      clock,
      pools: () => pools.all,
      endpoints: (applicationId) => webhookEndpoints.list(applicationId),
      flashcallMaxChecks: config.FLASHCALL_MAX_CHECKS,
      maxGuessProbability: fraud.settings.maxGuessProbability,
      rateCard,
    }),
    rateCard,
    delivery,
    verifications,
    templates,
    reviewNumbers,
    retention,
    events,
    streamCaps: new StreamCaps(
      {
        process: config.SSE_MAX_STREAMS,
        application: config.SSE_MAX_STREAMS_PER_APPLICATION,
        verification: config.SSE_MAX_STREAMS_PER_VERIFICATION,
      },
      { refused: (cap) => metrics.sseStreamsRefused.inc({ limit: cap }), open: (n) => metrics.sseStreamsOpen.set(n) },
    ),
    eventLog: new EventLog(store, verifications),
    webhookEndpoints,
    decisions,
    webhooks,
    timers,
    startWorkers() {
      webhooks.start();
      timers.start();
      retention.start(config.RETENTION_INTERVAL_MS);
    },
    messageChannels,
    fraud,
    metrics,
    sandbox,
    lag,
    draining: false,
    outages,
    async close(options = {}) {
      graceMs = options.graceMs ?? 0;
      await stack.close((error, name) => onBackgroundError(error, `closing ${name}`));
    },
  };
}
