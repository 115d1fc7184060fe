/**
 * The composition root: reads the configuration and picks an implementation for every port (store, channels,
 * clock), plus the sandbox's virtual carrier when it is on. Routes and the CLI receive this one object.
 */

import { EventLoopLag } from "./api/load-shedding.js";
import { type CallSummary, createFlashcallSipChannel } from "./channels/flashcall-sip/index.js";
import { MESSAGE_CHANNELS, type MessageChannelName, type SandboxCarrier } from "./channels/registry.js";
import type { ReverseFlashcallChannel } from "./channels/reverse-flashcall/index.js";
import { voiceEnabled } from "./channels/voice/index.js";
import { type Config, ConfigError, SANDBOX_POOL_NUMBERS } from "./config.js";
import { ApiKeys, DEFAULT_APPLICATION_ID } from "./core/api-keys.js";
import { Applications } from "./core/applications.js";
import { CodeHasher } from "./core/codes.js";
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
import { VirtualHandsets } from "./sandbox/handsets.js";
import { VirtualInbox } from "./sandbox/inbox.js";
import { VirtualSmsc } from "./sandbox/smsc.js";
import { VirtualViber } from "./sandbox/viber.js";
import { VirtualWhatsApp } from "./sandbox/whatsapp.js";
import type { SipTraceEntry } from "./sip/trace.js";
import { startTrunkRouter, type TrunkConfig, type TrunkEvent, TrunkSchema } from "./sip/trunks/index.js";
import { type AppStore, openStore } from "./storage/index.js";
import { Outage, type OutageReport } from "./storage/outage.js";
import { openRedis } from "./storage/redis.js";
import { lockDatabaseForServer } from "./storage/server-lock.js";
import { isRedisUnreachable, isStoreUnreachable } from "./storage/unreachable.js";

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
  sandbox: ({ handsets: VirtualHandsets } & SandboxCarrier) | null;
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
  outages: { store: Outage; redis: Outage | null };
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
 * The trunks calls go to: the sandbox's handsets when it is on; else SIP_TRUNKS, or the one trunk SIP_TRUNK_HOST,
 * SIP_TRUNK_PORT and SIP_DOMAIN describe.
 */
function trunkConfigs(config: Config, handsets: { address: string; port: number } | null): TrunkConfig[] {
  const shorthand = (id: string, host: string, port: number) =>
    TrunkSchema.parse({
      id,
      host,
      port,
      local_port: config.SIP_LOCAL_PORT,
      ...(config.SIP_DOMAIN ? { domain: config.SIP_DOMAIN } : {}),
    });
  if (handsets) return [shorthand("sandbox", handsets.address, handsets.port)];
  return config.SIP_TRUNKS ?? [shorthand("default", config.SIP_TRUNK_HOST as string, config.SIP_TRUNK_PORT)];
}

export async function createServices(config: Config, overrides: ServiceOverrides = {}): Promise<Services> {
  const clock = overrides.clock ?? systemClock;
  const unlock = lockDatabaseForServer(config.DATABASE_URL);
  const store = openStore(config.DATABASE_URL);
  await store.migrate();

  // Without a configured secret, one is generated once and kept in the database, so codes survive restarts.
  const secret = config.FLASHVERIFY_SECRET ?? (await store.getOrCreateSetting("code_secret", newSecret("fvs", 32)));
  const hasher = new CodeHasher(secret);

  const apiKeys = new ApiKeys(store, clock);
  const sinchCredentials = new SinchCredentials(store.sinch, clock, secret);
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
  if (config.SANDBOX === "off" && pools.all.length === 0) {
    await store.close();
    unlock();
    throw new ConfigError(
      "SANDBOX=off and no caller-ID pool: every flash call would be refused with NO_POOL_FOR_DESTINATION. Set " +
        "POOL_NUMBERS to numbers your trunk may present (ranges like +44207946xxxx), or add a pool first with " +
        "`flashverify pool add --numbers ...`",
    );
  }

  // The virtual carrier: SIP handsets, an SMSC, WhatsApp's Cloud API, Viber and a mailbox, all on loopback. The
  // HTTP providers' delivery reports are handed over in-process, to the channels created below.
  const messageChannels: Partial<Record<MessageChannelName, MessageChannel>> = {};
  const sandboxReceipt = (channel: MessageChannelName) => (payload: Record<string, unknown>) =>
    messageChannels[channel]?.handleReceipt?.(payload);
  const sandbox =
    config.SANDBOX === "on"
      ? {
          handsets: await VirtualHandsets.create({
            address: config.SANDBOX_SIP_ADDRESS,
            port: config.SANDBOX_SIP_PORT,
          }),
          smsc: await VirtualSmsc.create({ address: config.SANDBOX_SIP_ADDRESS, port: config.SANDBOX_SMPP_PORT }),
          whatsapp: await VirtualWhatsApp.create({
            address: config.SANDBOX_SIP_ADDRESS,
            port: 0,
            onStatus: sandboxReceipt("whatsapp"),
          }),
          viber: await VirtualViber.create({
            address: config.SANDBOX_SIP_ADDRESS,
            port: 0,
            onStatus: sandboxReceipt("viber"),
          }),
          inbox: await VirtualInbox.create({ address: config.SANDBOX_SIP_ADDRESS, port: config.SANDBOX_SMTP_PORT }),
        }
      : null;
  const metrics = new Metrics();
  metrics.watch({ store, pools, clock });
  const reportBackgroundError =
    overrides.onBackgroundError ??
    ((error: unknown, context: string) => console.error(`flashverify: background ${context} failed:`, error));
  const onOutage =
    overrides.onOutage ??
    ((up: boolean, report: OutageReport) =>
      console.error(`flashverify: ${report.dependency} ${up ? "is back" : "cannot be reached"}`, report));
  const outage = (dependency: string, isUnreachable: (error: unknown) => boolean, probe: () => Promise<unknown>) =>
    new Outage({
      dependency,
      isUnreachable,
      probe,
      onDown: (report) => onOutage(false, report),
      onUp: (report) => onOutage(true, report),
      onChange: (up) => metrics.dependencyUp.set({ dependency }, up ? 1 : 0),
    });
  const storeOutage = outage("database", isStoreUnreachable, () => store.ping());
  metrics.dependencyUp.set({ dependency: "database" }, 1);
  // Set once Redis is open: failures of its commands are counted against its outage, not logged one by one.
  let redisOutage: Outage | null = null;
  // A failure because the database or Redis is away is counted against the outage, which the log reports once.
  const onBackgroundError = (error: unknown, context: string) => {
    const kind = context.startsWith("rate limiter") ? "request" : "background";
    if (storeOutage.note(error, kind) || redisOutage?.note(error, kind)) return;
    reportBackgroundError(error, context);
  };

  // Every flash call goes through the trunk layer: routes, limits, failover and breakers over one UAC per trunk,
  // each in its own thread so that SIP timing (retransmissions, CANCELs, reading the socket before the kernel drops
  // datagrams) holds however busy HTTP and SQLite keep this one. The sandbox is one trunk to its handsets.
  const trunks = trunkConfigs(config, sandbox?.handsets.local ?? null);
  const uac = await startTrunkRouter({
    trunks,
    routes: sandbox ? [] : config.SIP_ROUTES,
    localAddress: config.SIP_LOCAL_ADDRESS ?? (sandbox ? "127.0.0.1" : "0.0.0.0"),
    t1Ms: config.SIP_T1_MS,
    ...(voiceEnabled(config, sandbox !== null)
      ? {
          media: {
            ports: config.VOICE_RTP_PORTS,
            ...(config.VOICE_RTP_ADDRESS ? { address: config.VOICE_RTP_ADDRESS } : {}),
            ...(config.VOICE_RTP_PUBLIC_ADDRESS ? { advertisedAddress: config.VOICE_RTP_PUBLIC_ADDRESS } : {}),
            ...(config.VOICE_RTP_PRIORITY === undefined ? {} : { priority: config.VOICE_RTP_PRIORITY }),
          },
        }
      : {}),
    onError: (error, trunk) => onBackgroundError(error, `SIP trunk ${trunk}`),
    ...(config.SIP_TRACE === "off"
      ? {}
      : {
          trace: config.SIP_TRACE === "full" ? "full" : "redacted",
          onTrace:
            overrides.onSipTrace ??
            ((trunk, entries) => {
              for (const e of entries) console.error(`flashverify: SIP ${trunk} ${e.dir}\n${e.text}`);
            }),
        }),
    onEvent: (event) => {
      metrics.trunksOutOfService.set({ trunk: event.trunk }, event.type === "out_of_service" ? 1 : 0);
      (
        overrides.onTrunkEvent ??
        ((e) => console.error(`flashverify: SIP trunk ${e.trunk} is ${e.type.replace(/_/g, " ")}`))
      )(event);
    },
  });

  for (const [name, create] of Object.entries(MESSAGE_CHANNELS)) {
    const channel = create(config, sandbox, {
      caller: uac,
      onError: (error) => onBackgroundError(error, `${name} channel`),
    });
    if (channel) messageChannels[name as MessageChannelName] = channel;
  }
  const defaultWorkflow: WorkflowStep[] = config.WORKFLOW.map((step) => {
    if (step.channel !== "flashcall" && !messageChannels[step.channel]) {
      throw new Error(`WORKFLOW: the ${step.channel} channel is not configured`);
    }
    const fallback =
      step.channel === "flashcall" ? config.FLASHCALL_TTL_SECONDS * 1000 : DEFAULT_STEP_TIMEOUT_MS[step.channel];
    return { channel: step.channel, timeoutMs: step.timeout === undefined ? fallback : step.timeout * 1000 };
  });

  const flashcall = createFlashcallSipChannel({
    uac,
    ringTimeMs: config.SIP_RING_TIME_MS,
    maxDialMs: config.SIP_MAX_DIAL_MS,
    onError: (error) => onBackgroundError(error, "flash call"),
    ...(overrides.onCallEnded ? { onCallEnded: overrides.onCallEnded } : {}),
  });

  // With Redis, limits are shared and live events fan out to every process; without, both stay in this one.
  const redis = config.REDIS_URL
    ? await openRedis(config.REDIS_URL, (error) => onBackgroundError(error, "Redis"))
    : null;
  if (redis) {
    const commands = redis.commands;
    redisOutage = outage("redis", isRedisUnreachable, () => commands.ping());
    metrics.dependencyUp.set({ dependency: "redis" }, 1);
  }
  const events: EventHub = redis
    ? await RedisEventHub.start(redis.commands, redis.subscriber, {
        channel: `${config.REDIS_PREFIX}:events`,
        onError: (error) => onBackgroundError(error, "event fan-out"),
      })
    : new LocalEventHub();
  const allowed = config.WEBHOOK_ALLOW_PRIVATE;
  const sinchCallbacks = new SinchCallbacks({
    signingPair: (applicationId) => sinchCredentials.signingPair(applicationId),
    verification: (id) => store.getVerification(id),
  });
  const decisions = new CallbackDecider({ store, clock, allowed, sinch: sinchCallbacks });
  const rateCard = withOverrides(RATE_CARD, config.RATE_CARD);
  const fraud = await createFraudControls(config, {
    store,
    clock,
    rateCard,
    redis: redis?.commands ?? null,
    onError: onBackgroundError,
    ...(overrides.limiterBackend ? { backend: overrides.limiterBackend } : {}),
  });

  const templates = new TemplateBook(store.templates, clock, {
    appName: config.OTP_APP_NAME,
    smsText: config.OTP_TEMPLATE,
    emailSubject: config.EMAIL_SUBJECT,
    whatsapp: { templateName: config.WHATSAPP_TEMPLATE, languageCode: config.WHATSAPP_LANGUAGE },
  });
  const reverse = messageChannels.reverse_flashcall as ReverseFlashcallChannel | undefined;
  const reviewNumbers = new ReviewNumbers(store.reviewNumbers, clock);
  const verifications = new VerificationService({
    store,
    clock,
    hasher,
    reviewNumbers,
    pools,
    channels: { flashcall, ...messageChannels },
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
    observer: (committed) => metrics.recorded(committed),
    decisions,
    onBackgroundError,
    reverse: reverse && { inbound: reverse.pool, ...reverse.policies(fraud.limiter) },
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

  // SQLite has one server per database (the lock above), so before any call is placed it settles the attempts a
  // previous process left in flight and releases the claims it held. On PostgreSQL other nodes may be running:
  // their work is theirs, and a dead node's is settled by the durable timers (an attempt past its deadline) and
  // by claims that lapse.
  if (config.DATABASE_URL.startsWith("sqlite:")) {
    await verifications.recoverInterrupted();
    await store.releaseAllClaims();
  }

  const webhooks = new WebhookWorker({
    sinch: sinchCallbacks,
    store,
    clock,
    allowed,
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    pollMs: config.WEBHOOK_POLL_MS,
    onError: (error) => onBackgroundError(error, "webhook delivery"),
  });
  const stopKicking = events.onAny(() => webhooks.kick());
  const timers = new TimerWorker({
    advanceDue: (limit) => verifications.advanceDue(limit),
    intervalMs: config.TIMER_INTERVAL_MS,
    onError: (error) => onBackgroundError(error, "timers"),
  });
  const lag = new EventLoopLag(config.OVERLOAD_MAX_LAG_MS);

  const retention = new Retention({
    store: store.retentionStore(),
    clock,
    days: { default: config.RETENTION_DAYS, applications: config.RETENTION_APPLICATIONS },
    verifications,
    onError: (error) => onBackgroundError(error, "retention"),
  });

  const webhookEndpoints = new WebhookEndpoints(store, clock, allowed);
  return {
    config,
    trunks: trunks.map((t) => ({
      id: t.id,
      target: `${t.transport === "tls" ? "sips" : "sip"}:${t.host}${t.port === undefined ? "" : `:${t.port}`}`,
      transport: t.transport,
    })),
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
      configured: new Set(poolNumbers ? [DEFAULT_POOL_ID] : []),
    }),
    stats: new OperatorStats({
      store,
      clock,
      pools: () => pools.all,
      endpoints: (applicationId) => webhookEndpoints.list(applicationId),
      flashcallMaxChecks: config.FLASHCALL_MAX_CHECKS,
      maxGuessProbability: fraud.settings.maxGuessProbability,
      rateCard,
    }),
    rateCard,
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
    outages: { store: storeOutage, redis: redisOutage },
    async close({ graceMs = 0 } = {}) {
      lag.close();
      storeOutage.close();
      redisOutage?.close();
      stopKicking();
      // Work under way finishes: fired timers are rewritten and deliveries sent or released, so nothing stays
      // claimed for another node to wait out. What is written from here on is left to the next worker, on any node.
      await Promise.all([timers.stop(), webhooks.stop(), retention.stop()]);
      // Calls ring on to their own end for a while; close() then hangs up the rest (CANCEL) and settles their
      // records, and the outcomes are written before the store closes: no attempt is left recorded in flight.
      if (graceMs > 0) await flashcall.settle(graceMs);
      await flashcall.close();
      await Promise.all(Object.values(messageChannels).map((channel) => channel.close()));
      await verifications.settled();
      fraud.close();
      await sandbox?.handsets.close();
      await sandbox?.smsc.close();
      await sandbox?.whatsapp.close();
      await sandbox?.viber.close();
      await sandbox?.inbox.close();
      await redis?.close();
      await store.close();
      unlock();
    },
  };
}
