/**
 * The verification use cases: start, check, read, next step, cancel, expire. It orchestrates the ports (store,
 * channels, clock) around the pure lifecycle in `verification.ts` and the workflow policy in `workflow.ts`; it
 * knows nothing of HTTP or SQL.
 *
 * Every change is read-modify-write with an optimistic version, retried on conflict, so two concurrent checks of
 * one verification are counted exactly once each and at most one of them can verify it. Within a process, work on
 * one verification is also queued, so channel callbacks and checks do not spin against each other.
 */
import { randomInt } from "node:crypto";
import type { CodeHasher } from "./codes.js";
import { hashToken, tokenHashEquals } from "./codes.js";
import { type AppError, err, errWith, ok, type Result } from "./errors.js";
import { hashRequest } from "./idempotency.js";
import { newId } from "./ids.js";
import { readReportedCli } from "./matching.js";
import { numberType } from "./number-type.js";
import { DEFAULT_OTP_LENGTH, DEFAULT_OTP_TEMPLATE, newOtp, renderOtpText } from "./otp.js";
import { parseDestination } from "./phone.js";
import { cliPrefix, type NumberPool } from "./pool.js";
import type {
  AttemptOutcome,
  Channel,
  Clock,
  EventSink,
  FraudGuard,
  MessageChannel,
  MessageOutcome,
  Store,
} from "./ports.js";
import { sendCost } from "./rate-card.js";
import type {
  Attempt,
  ChannelName,
  ClientInfo,
  DomainEvent,
  RiskAssessment,
  Verification,
  WorkflowStep,
} from "./types.js";
import {
  advance,
  applyCheck,
  attemptsRemaining,
  cancel,
  expire,
  failVerification,
  flashcallAttempt,
  isFinal,
  liveAttempts,
  markAttemptEnded,
  markInterrupted,
  markRinging,
  markSent,
  messageAttempt,
  newBlockedVerification,
  newVerification,
  nextWake,
  openStep,
  type PendingSend,
  type StepChange,
  skipStep,
  startedEvents,
  type Transition,
} from "./verification.js";
import { DEFAULT_STEP_TIMEOUT_MS, stepReaches } from "./workflow.js";

export interface VerificationSettings {
  /** how long a flash-call step accepts its code; default 60 s, at most 120 s */
  flashcallTtlMs: number;
  /** lifetime of the whole verification; at most 10 minutes */
  verificationTtlMs: number;
  /** checks allowed per flash-call verification; default 3 */
  flashcallMaxChecks: number;
  /** how long a client token stays usable after the verification expires (status reads) */
  clientTokenGraceMs: number;
  /**
   * an attempt still recorded in flight this long after it was dialed has no process behind it (a crash): its
   * timer settles it as interrupted; default 120 s, longer than any call the channels place
   */
  attemptDeadlineMs?: number;
  /** the steps of a verification whose request names none; default: a flash call alone */
  defaultWorkflow?: WorkflowStep[];
  /** checks allowed when the workflow has no flash call (OTP only); default 5 */
  otpMaxChecks?: number;
  /** digits of message codes, 4-10; default 6 */
  otpLength?: number;
  /** the message text: `{app}`, `{code}`, `{minutes}`; default DEFAULT_OTP_TEMPLATE */
  otpTemplate?: string;
  /** the sender named in message texts; default "flashverify" */
  appName?: string;
  /** attempts one verification may make, fallbacks and resends included; default 5 */
  maxAttempts?: number;
}

/** What the application's pre-send decision callback is asked: the request, before anything is sent. */
export interface DecisionRequest {
  applicationId: string;
  verificationId: string;
  phone: string;
  country: string;
  /** the first step's channel */
  channel: ChannelName;
  /** every step's channel, in order */
  workflow: ChannelName[];
  reference: string | null;
  metadata: Record<string, unknown> | null;
  client: ClientInfo | null;
}

/** The answer, or the application's configured default when it did not answer in time. */
export interface Decision {
  decision: "allow" | "deny";
  /** the channels the application asks for instead, in order (default timeouts) */
  workflow?: string[] | undefined;
}

/** Asks an application whether to go ahead; resolves undefined when the application has no callback. */
export interface PreSendDecider {
  decide(request: DecisionRequest): Promise<Decision | undefined>;
}

export interface StartInput {
  phone: string;
  /** the channels to try, in order; default the configured workflow */
  workflow?: Array<{ channel: ChannelName; timeout?: number | undefined }> | undefined;
  /** the address for an email step */
  email?: string | undefined;
  /** ISO country of a number written nationally (`07400 123456` with `GB`) */
  country?: string | undefined;
  reference?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
  client?: ClientInfo | undefined;
}

export interface StartOptions {
  /** the request's Idempotency-Key: a retry with the same key and body returns the first verification */
  idempotencyKey?: string | undefined;
  /** the request's address: the client's IP for the fraud controls when the body names none */
  requestIp?: string | undefined;
  /** the client IP's country as a trusted proxy reported it */
  ipCountry?: string | undefined;
}

export interface CheckOptions {
  /** the request's address, for the check rate limits */
  requestIp?: string | undefined;
}

export interface Started {
  verification: Verification;
  /** true when this answers a retry of an earlier request with the same Idempotency-Key */
  replayed: boolean;
  clientToken: string;
}

/** Who is asking: a backend of an application, or the app/browser holding one verification's client token. */
export type Access = { kind: "application"; applicationId: string } | { kind: "client"; tokenHash: string };

export interface CheckInput {
  code?: string | undefined;
  caller_id?: string | undefined;
}

export interface Checked {
  verification: Verification;
  attemptsRemaining: number;
}

export interface PoolSource {
  /** pools that may call a destination in `country`, best first */
  poolsFor(country: string): readonly NumberPool[];
}

export interface VerificationServiceDeps {
  store: Store;
  clock: Clock;
  hasher: CodeHasher;
  pools: PoolSource;
  channels: { flashcall: Channel } & Partial<Record<Exclude<ChannelName, "flashcall">, MessageChannel>>;
  settings: VerificationSettings;
  /** told after each commit that wrote events (SSE streams, the webhook worker) */
  events?: EventSink | undefined;
  /** told the events of each commit (metrics) */
  observer?: ((events: readonly DomainEvent[]) => void) | undefined;
  /** the applications' pre-send decision callbacks */
  decisions?: PreSendDecider | undefined;
  /** fraud and abuse controls; without them every start and check is let through */
  fraud?: FraudGuard | undefined;
  /** reports failures of background work (channel callbacks), which have no caller to return them to */
  onBackgroundError?: (error: unknown, context: string) => void;
}

const RANDOM_DRAWS = 16;
/** a nearly full pool is scanned for free numbers this far at most */
const MAX_SCAN = 1_000_000;
const MAX_CONFLICT_RETRIES = 8;
/** a lease outlives its verification's expiry by this much, so a crashed process cannot hold a CLI forever */
const LEASE_GRACE_MS = 60_000;
const DEFAULT_ATTEMPT_DEADLINE_MS = 120_000;
const DEFAULT_OTP_MAX_CHECKS = 5;
const DEFAULT_MAX_ATTEMPTS = 5;
const FLASHCALL_ONLY: WorkflowStep[] = [{ channel: "flashcall", timeoutMs: DEFAULT_STEP_TIMEOUT_MS.flashcall }];
/** a claimed timer whose worker died is handed out again after this */
const TIMER_CLAIM_MS = 30_000;

export class VerificationService {
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly attemptDeadlineMs: number;

  constructor(private readonly deps: VerificationServiceDeps) {
    this.attemptDeadlineMs = deps.settings.attemptDeadlineMs ?? DEFAULT_ATTEMPT_DEADLINE_MS;
  }

  async start(applicationId: string, input: StartInput, options: StartOptions = {}): Promise<Result<Started>> {
    const { store, clock, hasher, settings } = this.deps;
    const idempotency =
      options.idempotencyKey === undefined
        ? undefined
        : { key: options.idempotencyKey, requestHash: hashRequest(input) };
    if (idempotency) {
      const earlier = await store.findIdempotency(applicationId, idempotency.key);
      if (earlier) return this.replay(earlier.verificationId, earlier.requestHash === idempotency.requestHash);
    }
    const phone = parseDestination(input.phone, input.country);
    if (!phone) return err("INVALID_PHONE_NUMBER");
    const requested = this.workflowOf(input.workflow);
    if (!requested.ok) return requested;

    const now = clock.now();
    const verificationId = newId("ver", now);
    const clientToken = hasher.clientToken(verificationId);
    const idempotencyRecord = idempotency && { ...idempotency, applicationId, verificationId, createdAt: now };
    const client: ClientInfo = { ...input.client };
    if (client.ip === undefined && options.requestIp !== undefined) client.ip = options.requestIp;
    const destination = { numberType: phone.type, email: input.email ?? null };

    // Steps the number cannot take are passed over before anything is sent: a flash call to a VoIP number fails
    // silently, so it is skipped rather than tried. The fraud controls judge the step that will send first.
    let plan = this.plan(requested.value, destination, phone.country);
    if (!plan.ok) return plan;
    let risk: RiskAssessment | null = null;
    if (this.deps.fraud) {
      const screened = await this.deps.fraud.screenStart({
        verificationId,
        applicationId,
        phone: phone.e164,
        country: phone.country,
        numberType: phone.type,
        channel: plan.value.channel,
        client,
        ipCountry: options.ipCountry ?? null,
        guessProbability: plan.value.guessProbability,
        now,
      });
      if (!screened.ok) return screened;
      risk = screened.value;
    }
    // A shadow block answers like any start but sends nothing: its attempts hold no real CLI or code, none is sent.
    const shadow = risk?.outcome === "shadow_block";

    const decision = await this.deps.decisions?.decide({
      applicationId,
      verificationId,
      phone: phone.e164,
      country: phone.country,
      channel: plan.value.channel,
      workflow: requested.value.map((step) => step.channel),
      reference: input.reference ?? null,
      metadata: input.metadata ?? null,
      client: Object.keys(client).length > 0 ? client : null,
    });
    if (decision?.decision === "deny") {
      const blocked = newBlockedVerification({
        id: verificationId,
        applicationId,
        phone,
        input,
        clientTokenHash: hashToken(clientToken),
        reason: "denied_by_application",
        now,
        settings,
        workflow: requested.value,
      });
      const created = await store.createVerification({
        verification: blocked.verification,
        events: blocked.events,
        idempotency: idempotencyRecord,
      });
      if (created === "idempotency_taken" && idempotency) return this.replayRace(applicationId, idempotency);
      this.committed(verificationId, blocked.events);
      return ok({ verification: blocked.verification, replayed: false, clientToken });
    }
    // The application's callback may choose the channels; ones this server cannot send are ignored like a bad answer.
    let workflow = requested.value;
    if (decision?.workflow?.length) {
      const chosen = this.workflowOf(decision.workflow.map((channel) => ({ channel: channel as ChannelName })));
      const replanned = chosen.ok ? this.plan(chosen.value, destination, phone.country) : undefined;
      if (chosen.ok && replanned?.ok) {
        workflow = chosen.value;
        plan = replanned;
      }
    }
    const { first, pool } = plan.value;

    const hasFlashcall = workflow.some((step) => step.channel === "flashcall");
    const draft = newVerification({
      id: verificationId,
      applicationId,
      phone,
      input: { ...input, client: Object.keys(client).length > 0 ? client : undefined },
      clientTokenHash: hashToken(clientToken),
      workflow,
      email: input.email ?? null,
      maxChecks: hasFlashcall ? settings.flashcallMaxChecks : (settings.otpMaxChecks ?? DEFAULT_OTP_MAX_CHECKS),
      expiresAt: now + Math.min(settings.verificationTtlMs, sum(workflow.map((step) => step.timeoutMs))),
      risk,
      now,
    });
    const skipped: DomainEvent[] = [];
    for (let i = 0; i < first; i++) {
      const reach = stepReaches(workflow[i]?.channel as ChannelName, destination);
      skipped.push(skipStep(draft, { index: i, to: i + 1, reason: reach.ok ? "requested" : reach.reason, at: now }));
    }

    if (!pool) {
      const opened = this.openMessageStep(draft, first, null, now);
      const events = [...startedEvents(opened.verification), ...skipped, ...opened.events];
      const created = await store.createVerification({
        verification: opened.verification,
        events,
        idempotency: idempotencyRecord,
        wakeAt: nextWake(opened.verification, this.attemptDeadlineMs),
      });
      if (created === "idempotency_taken" && idempotency) return this.replayRace(applicationId, idempotency);
      this.committed(verificationId, events);
      // Screened at the start like any first send.
      this.sendAll(opened.verification, opened.sends ?? [], true);
      return ok({ verification: opened.verification, replayed: false, clientToken });
    }

    const attemptId = newId("att", now);
    const lastCliKey = await store.lastCliKey(phone.e164);
    for await (const { cli, cliKey } of this.candidates(pool, lastCliKey)) {
      const prefix = cliPrefix(cli, pool.codeLength);
      const attempt = flashcallAttempt({
        id: attemptId,
        verificationId,
        seq: 1,
        pool,
        cliKey: shadow ? `shadow_${attemptId}` : cliKey,
        cliPrefix: prefix,
        codeMac: hasher.codeMac(attemptId, shadow ? "shadow" : cli.slice(-pool.codeLength)),
        cost: sendCost("flashcall", phone.country),
        now,
      });
      // The attacker's odds: each check guesses among the pool numbers that share the prefix the pattern shows.
      const guessProbability = draft.maxChecks / pool.codesSharing(prefix);
      const opened = openStep(draft, { index: first, attempt, at: now, guessProbability, reason: null, shadow });
      const verification = opened.verification;
      const events = [...startedEvents(verification), ...skipped, ...opened.events];
      const created = await store.createVerification({
        verification,
        lease: {
          poolId: pool.id,
          cliKey: attempt.cliKey as string,
          verificationId,
          expiresAt: verification.expiresAt + LEASE_GRACE_MS,
        },
        phoneLastCliKey: shadow ? (lastCliKey ?? (attempt.cliKey as string)) : cliKey,
        events,
        idempotency: idempotencyRecord,
        wakeAt: nextWake(verification, this.attemptDeadlineMs),
      });
      if (created === "cli_taken") continue;
      if (created === "idempotency_taken" && idempotency) return this.replayRace(applicationId, idempotency);

      this.committed(verificationId, events);
      if (!shadow) this.dispatch(verification, verification.attempts.at(-1) as Attempt, cli);
      return ok({ verification, replayed: false, clientToken });
    }
    return err("POOL_EXHAUSTED");
  }

  /**
   * The workflow a request asks for, checked against what this server can send: known and configured channels, a
   * flash call only as the first step (it needs a CLI leased when the verification is created), sane timeouts.
   */
  private workflowOf(steps: StartInput["workflow"]): Result<WorkflowStep[]> {
    if (!steps?.length) return ok(this.deps.settings.defaultWorkflow ?? FLASHCALL_ONLY);
    const workflow: WorkflowStep[] = [];
    for (const [i, step] of steps.entries()) {
      if (!(step.channel in DEFAULT_STEP_TIMEOUT_MS)) {
        return err("INVALID_WORKFLOW", `workflow[${i}]: unknown channel ${JSON.stringify(step.channel)}`);
      }
      if (step.channel !== "flashcall" && !this.deps.channels[step.channel]) {
        return err(
          "CHANNEL_NOT_CONFIGURED",
          `workflow[${i}]: the ${step.channel} channel is not configured on this server`,
        );
      }
      if (step.channel === "flashcall" && i > 0) {
        return err("INVALID_WORKFLOW", `workflow[${i}]: a flash call can only be the first step`);
      }
      const fallback =
        step.channel === "flashcall" ? this.deps.settings.flashcallTtlMs : DEFAULT_STEP_TIMEOUT_MS[step.channel];
      workflow.push({ channel: step.channel, timeoutMs: step.timeout === undefined ? fallback : step.timeout * 1000 });
    }
    return ok(workflow);
  }

  /**
   * The first step the destination can take, with what the fraud controls need to judge it: its channel, the pool
   * of a flash call (or none for a message) and the odds of guessing its code.
   */
  private plan(
    workflow: WorkflowStep[],
    destination: { numberType: string; email: string | null },
    country: string,
  ): Result<{ first: number; channel: ChannelName; pool: NumberPool | null; guessProbability: number }> {
    const first = workflow.findIndex((step) => stepReaches(step.channel, destination).ok);
    const step = workflow[first];
    if (!step) {
      // Said the way the number policy says it when the number's type is the reason (a landline, a premium number).
      const byType = workflow.find((s) => s.channel !== "email");
      if (!byType) return err("NO_REACHABLE_CHANNEL");
      return errWith("NUMBER_TYPE_NOT_ALLOWED", { number_type: destination.numberType, channel: byType.channel });
    }
    const { settings } = this.deps;
    if (step.channel !== "flashcall") {
      const checks = settings.otpMaxChecks ?? DEFAULT_OTP_MAX_CHECKS;
      return ok({
        first,
        channel: step.channel,
        pool: null,
        guessProbability: checks / 10 ** (settings.otpLength ?? DEFAULT_OTP_LENGTH),
      });
    }
    const pool = this.deps.pools.poolsFor(country)[0];
    if (!pool) return err("NO_POOL_FOR_DESTINATION");
    return ok({
      first,
      channel: "flashcall",
      pool,
      guessProbability: settings.flashcallMaxChecks / pool.fewestCodesPerPrefix,
    });
  }

  /** Opens message step `index`: a fresh code, kept in memory only until the send. */
  private openMessageStep(v: Verification, index: number, reason: StepChange | null, at: number): Transition {
    const { hasher, settings } = this.deps;
    const step = v.workflow[index] as WorkflowStep;
    const length = settings.otpLength ?? DEFAULT_OTP_LENGTH;
    const code = newOtp(length);
    const attemptId = newId("att", at);
    const attempt = messageAttempt({
      id: attemptId,
      verificationId: v.id,
      seq: v.attempts.length + 1,
      channel: step.channel as Exclude<ChannelName, "flashcall">,
      codeLength: length,
      codeMac: hasher.codeMac(attemptId, code),
      cost: sendCost(step.channel, v.country),
      now: at,
    });
    // A shadow-blocked verification keeps answering like a real one, step after step, and never sends.
    const shadow = v.risk?.outcome === "shadow_block";
    const guessProbability = v.maxChecks / 10 ** length;
    const opened = openStep(v, { index, attempt, at, guessProbability, reason, shadow });
    return shadow ? opened : { ...opened, sends: [{ attempt: opened.verification.attempts.at(-1) as Attempt, code }] };
  }

  /**
   * The current step is over: open the next one the destination can take, or, when none is left, fail the
   * verification (the user asked for the next step and there is none: `NO_NEXT_STEP`, nothing changes).
   */
  private proceed(t: Transition, reason: StepChange, at: number): Transition | { error: AppError } {
    const v = t.verification;
    const destination = { numberType: numberType(v.phone), email: v.email };
    const events = [...t.events];
    const maxAttempts = this.deps.settings.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (v.attempts.length < maxAttempts) {
      for (let index = v.step + 1; index < v.workflow.length; index++) {
        const reach = stepReaches(v.workflow[index]?.channel as ChannelName, destination);
        if (!reach.ok) {
          events.push(skipStep(v, { index, to: index + 1, reason: reach.reason, at }));
          continue;
        }
        const opened = this.openMessageStep(v, index, reason, at);
        return { ...opened, events: [...events, ...opened.events] };
      }
    }
    if (reason === "requested") return { error: { code: "NO_NEXT_STEP" } as AppError };
    const last = v.attempts.at(-1);
    const failed = failVerification(v, "attempt_failed", at, { attempt_reason: last?.reason ?? null });
    return { verification: failed.verification, events: [...events, ...failed.events] };
  }

  /** A concurrent request with the same Idempotency-Key won the race: answer as its retry. */
  private async replayRace(
    applicationId: string,
    idempotency: { key: string; requestHash: string },
  ): Promise<Result<Started>> {
    const winner = await this.deps.store.findIdempotency(applicationId, idempotency.key);
    if (winner) return this.replay(winner.verificationId, winner.requestHash === idempotency.requestHash);
    return err("INTERNAL", "an Idempotency-Key was claimed but its record is gone");
  }

  private async replay(verificationId: string, sameRequest: boolean): Promise<Result<Started>> {
    if (!sameRequest) return err("IDEMPOTENCY_CONFLICT");
    const verification = await this.deps.store.getVerification(verificationId);
    if (!verification) return err("INTERNAL");
    return ok({
      verification,
      replayed: true,
      clientToken: this.deps.hasher.clientToken(verification.id),
    });
  }

  /**
   * CLIs to try, avoiding the one that last called this destination: first uniform random draws (almost always
   * enough); when they keep hitting live leases the pool is nearly full, so the free numbers are found by scanning
   * from a random offset against the set of live leases.
   */
  private async *candidates(
    pool: NumberPool,
    lastCliKey: string | undefined,
  ): AsyncGenerator<{ cli: string; cliKey: string }> {
    const { hasher, store } = this.deps;
    // With a single number there is nothing to alternate with.
    const usable = (cliKey: string) => pool.size === 1 || cliKey !== lastCliKey;
    for (let draw = 0; draw < RANDOM_DRAWS; draw++) {
      const cli = pool.draw();
      const cliKey = hasher.cliKey(cli);
      if (usable(cliKey)) yield { cli, cliKey };
    }
    const leased = await store.liveLeaseKeys(pool.id, this.deps.clock.now());
    if (leased.size >= pool.size) return;
    const scan = Math.min(pool.size, MAX_SCAN);
    const offset = randomInt(pool.size);
    for (let i = 0; i < scan; i++) {
      const cli = pool.at((offset + i) % pool.size);
      const cliKey = hasher.cliKey(cli);
      if (!leased.has(cliKey) && usable(cliKey)) yield { cli, cliKey };
    }
  }

  async get(id: string, access: Access): Promise<Result<Verification>> {
    // Reading an overdue verification settles it, so status never shows `pending` past its expiry.
    const result = await this.update(id, (v) => expire(v, this.deps.clock.now()), access);
    return result.ok ? ok(result.value.saved ?? result.value.read) : result;
  }

  async check(id: string, access: Access, input: CheckInput, options: CheckOptions = {}): Promise<Result<Checked>> {
    const reportedText = input.caller_id ?? input.code;
    if (reportedText === undefined) return err("INVALID_CODE_FORMAT");
    const { hasher, clock, fraud } = this.deps;
    let locked = false;
    let screenedAs: Verification | undefined;
    if (fraud) {
      // Screened whether or not the id names a verification, so an unknown id costs the same and counts the same.
      // The screening reads only what never changes (application, number, token, expiry), so what this process
      // wrote last serves as well as a read.
      screenedAs = this.deps.store.lastWritten(id) ?? (await this.deps.store.getVerification(id));
      const visible = screenedAs && this.allowed(screenedAs, access) ? screenedAs : undefined;
      const screened = await fraud.screenCheck({
        applicationId: visible?.applicationId ?? (access.kind === "application" ? access.applicationId : null),
        phone: visible?.phone ?? null,
        ip: options.requestIp ?? null,
        now: clock.now(),
      });
      if (!screened.ok) return screened;
      locked = screened.value.locked;
    }
    const result = await this.update(
      id,
      (v) => {
        const now = clock.now();
        if (isFinal(v)) return undefined;
        const expired = expire(v, now);
        if (expired) return expired;
        const attempt = v.attempts.at(-1);
        if (!attempt) return undefined;
        // A superseded step's code stops being accepted when the next step opens: one live code at a time.
        const live = now < attempt.expiresAt;
        if (attempt.channel !== "flashcall" || attempt.cliPrefix === null) {
          const code = readOtp(reportedText, attempt.codeLength);
          if (code === null) return { error: { code: "INVALID_CODE_FORMAT" } as AppError };
          const codeOk = hasher.codeMatches(attempt.id, code, attempt.codeMac);
          return applyCheck(v, codeOk && live, null, now);
        }
        const reported = readReportedCli(reportedText, v.country, attempt.codeLength);
        if (!reported) return { error: { code: "INVALID_CODE_FORMAT" } as AppError };
        // Always run the MAC comparison, even when the prefix already differs or the number is locked out, so timing
        // says nothing; a locked-out number's right code counts exactly like a wrong one.
        const codeOk = hasher.codeMatches(attempt.id, reported.code, attempt.codeMac);
        const prefixOk = reported.prefix === null || reported.prefix === attempt.cliPrefix;
        return applyCheck(v, codeOk && prefixOk && live && !locked, attempt.cliPrefix + reported.code, now);
      },
      access,
      false,
      // What the screening read is the first guess (a change may have been saved since).
      screenedAs,
    );
    if (!result.ok) return result;
    const { read, saved } = result.value;
    if (fraud && saved) {
      if (saved.status === "verified") fraud.recordVerified(saved);
      else if (saved.checksUsed > read.checksUsed) await fraud.recordFailedCheck(saved.applicationId, saved.phone);
    }
    // Single use: once verified, no later check may read as a success.
    if (!saved && read.status === "verified") return err("ALREADY_VERIFIED");
    const v = saved ?? read;
    return ok({ verification: v, attemptsRemaining: attemptsRemaining(v) });
  }

  /**
   * "Use SMS instead": ends the current step and opens the next one now. On the last step of a message channel it
   * sends a new code on the same channel (a resend is a new step), up to `maxAttempts` per verification.
   */
  async next(id: string, access: Access): Promise<Result<Verification>> {
    const result = await this.update(
      id,
      (v) => {
        const now = this.deps.clock.now();
        if (isFinal(v)) return { error: { code: "VERIFICATION_NOT_PENDING" } as AppError };
        const expired = expire(v, now);
        if (expired) return expired;
        const current = v.workflow[v.step];
        const atLastStep = v.step >= v.workflow.length - 1;
        if (atLastStep && current && current.channel !== "flashcall") {
          const resend = { ...v, workflow: [...v.workflow, { ...current }] };
          return this.proceed({ verification: resend, events: [] }, "requested", now);
        }
        return this.proceed({ verification: v, events: [] }, "requested", now);
      },
      access,
    );
    if (!result.ok) return result;
    return ok(result.value.saved ?? result.value.read);
  }

  async cancel(id: string, access: Access): Promise<Result<Verification>> {
    const result = await this.update(id, (v) => cancel(v, this.deps.clock.now()), access);
    if (!result.ok) return result;
    return result.value.saved ? ok(result.value.saved) : err("VERIFICATION_NOT_PENDING");
  }

  /**
   * Fires the durable timers that are due: overdue verifications expire and attempts left in flight past their
   * deadline are settled. Fires at most `limit` timers and resolves with how many it fired. Safe to run from
   * several processes: each timer is claimed by one.
   */
  async advanceDue(limit = 500): Promise<number> {
    const { store, clock } = this.deps;
    const now = clock.now();
    const ids = await store.claimTimers(now, now + TIMER_CLAIM_MS, limit);
    await Promise.all(
      ids.map(async (id) => {
        // A fired timer is always rewritten: its claim is released and it moves to the next due time.
        const result = await this.update(id, (v) => advance(v, clock.now(), this.attemptDeadlineMs), undefined, true);
        // Its verification is gone: so is the reason for the timer.
        if (!result.ok) await store.setTimer(id, null);
        // Nothing was due after all (a save moved on in between): put the timer where the state says.
        else if (!result.value.saved) await store.setTimer(id, nextWake(result.value.read, this.attemptDeadlineMs));
      }),
    );
    return ids.length;
  }

  /**
   * Settles the attempts a previous process left dialing or ringing (see `markInterrupted`). Run once at start,
   * before any call is placed: it assumes this process is the only one placing calls for its database, which holds
   * for SQLite; several nodes sharing one database need to know which node owns which call.
   */
  async recoverInterrupted(): Promise<number> {
    let recovered = 0;
    const seen = new Set<string>();
    for (;;) {
      const ids = (await this.deps.store.listWithLiveAttempts(500)).filter((id) => !seen.has(id));
      if (ids.length === 0) return recovered;
      for (const id of ids) {
        seen.add(id);
        const result = await this.update(id, (v) => markInterrupted(v, this.deps.clock.now()));
        if (result.ok && result.value.saved) recovered++;
      }
    }
  }

  /**
   * Resolves once every change queued so far has been written, channel callbacks included (a shutdown waits for
   * the outcomes of the calls it hung up before it closes the store).
   */
  async settled(): Promise<void> {
    while (this.queues.size > 0) await Promise.all(this.queues.values());
  }

  /** After a commit: live listeners learn which verification moved, the observer what happened. */
  private committed(verificationId: string, events: readonly DomainEvent[]): void {
    this.deps.events?.committed(verificationId);
    this.deps.observer?.(events);
  }

  /**
   * Constant-time: true when `tokenHash` (hashToken of a bearer) is the hash of verification `id`'s client token,
   * whether or not that verification still exists.
   */
  isClientToken(id: string, tokenHash: string): boolean {
    return tokenHashEquals(hashToken(this.deps.hasher.clientToken(id)), tokenHash);
  }

  private allowed(v: Verification, access: Access): boolean {
    if (access.kind === "application") return v.applicationId === access.applicationId;
    const usable = this.deps.clock.now() < v.expiresAt + this.deps.settings.clientTokenGraceMs;
    return tokenHashEquals(v.clientTokenHash, access.tokenHash) && usable;
  }

  private dispatch(v: Verification, attempt: Attempt, cli: string): void {
    const { flashcall } = this.deps.channels;
    flashcall.send(
      { kind: "flashcall", attemptId: attempt.id, to: v.phone, cli },
      {
        ringing: (at) => this.background(v.id, (cur) => markRinging(cur, attempt.id, at), "ringing"),
        ended: (outcome: AttemptOutcome) =>
          this.background(v.id, (cur) => this.afterEnded(cur, attempt.id, outcome), "attempt ended"),
      },
    );
  }

  /** Hands committed messages to their channels, and hangs up a superseded step's call still ringing. */
  private sendAll(v: Verification, sends: PendingSend[], screened = false): void {
    if (sends.length === 0) return;
    const current = v.attempts.at(-1);
    for (const attempt of liveAttempts(v)) {
      if (attempt !== current && attempt.channel === "flashcall") this.deps.channels.flashcall.cancel(attempt.id);
    }
    for (const send of sends) {
      if (screened || !this.deps.fraud) this.send(v, send);
      else void this.screenThenSend(v, send);
    }
  }

  /** A fallback or resend passes the fraud controls' number policy, blocks and spend caps before it goes out. */
  private async screenThenSend(v: Verification, send: PendingSend): Promise<void> {
    const fraud = this.deps.fraud as FraudGuard;
    const screened = await fraud
      .screenSend({
        verificationId: v.id,
        applicationId: v.applicationId,
        phone: v.phone,
        country: v.country,
        numberType: numberType(v.phone),
        channel: send.attempt.channel,
        now: this.deps.clock.now(),
      })
      .catch((error: unknown) => {
        this.deps.onBackgroundError?.(error, "fraud screening");
        return err("FRAUD_CHECK_UNAVAILABLE");
      });
    if (screened.ok) {
      this.send(v, send);
      return;
    }
    const outcome = {
      at: this.deps.clock.now(),
      delivered: false,
      reason: "refused_by_policy" as const,
      sipCode: null,
    };
    const refused = { ...outcome, detail: screened.error.code };
    this.background(v.id, (cur) => this.afterEnded(cur, send.attempt.id, refused), "attempt refused");
  }

  private send(v: Verification, { attempt, code }: PendingSend): void {
    const channel = this.deps.channels[attempt.channel as Exclude<ChannelName, "flashcall">];
    const to = attempt.channel === "email" ? (v.email as string) : v.phone;
    const text = renderOtpText(this.deps.settings.otpTemplate ?? DEFAULT_OTP_TEMPLATE, {
      app: this.deps.settings.appName ?? "flashverify",
      code,
      ttlMs: attempt.expiresAt - (attempt.dialedAt ?? attempt.createdAt),
    });
    if (!channel) {
      // Configuration changed since the workflow was accepted: the step fails and the workflow moves on.
      const outcome = {
        at: this.deps.clock.now(),
        delivered: false,
        reason: "network_error" as const,
        detail: "channel not configured",
      };
      this.background(v.id, (cur) => this.afterEnded(cur, attempt.id, messageOutcome(outcome)), "attempt ended");
      return;
    }
    channel.send(
      { attemptId: attempt.id, to, code, text },
      {
        accepted: (at, ids) => this.background(v.id, (cur) => markSent(cur, attempt.id, at, ids), "message sent"),
        ended: (outcome: MessageOutcome) =>
          this.background(v.id, (cur) => this.afterEnded(cur, attempt.id, messageOutcome(outcome)), "attempt ended"),
      },
    );
  }

  /** Records how an attempt ended and, when that ends its step, moves the workflow on. */
  private afterEnded(v: Verification, attemptId: string, outcome: AttemptOutcome) {
    const t = markAttemptEnded(v, attemptId, outcome);
    if (!t?.stepOver) return t;
    return this.proceed(t, t.stepOver, outcome.at);
  }

  private background(
    id: string,
    change: (v: Verification) => Transition | { error: AppError } | undefined,
    context: string,
  ): void {
    this.update(id, change).catch((error: unknown) => this.deps.onBackgroundError?.(error, context));
  }

  /**
   * Reads the verification (checking `access` when given), applies `change` and saves the result with its events,
   * retrying on version conflicts. Resolves to what was read and, when `change` made a transition, what was saved.
   * A change may also return an error, which is passed through without writing anything.
   *
   * The first try may start from a guess instead of a read: `guess`, else what the store says this process last
   * wrote (`Store.lastWritten`), so that the callbacks of a call this process placed (ringing, ended) cost a save but
   * no read. Another process may have written since, so a guess stands only if the save of its change passes the
   * store's version check; every other outcome (a conflict, no change, an error, no access) is decided again on a
   * fresh read.
   */
  private update(
    id: string,
    change: (v: Verification) => Transition | { error: AppError } | undefined,
    access?: Access,
    rewriteTimer = false,
    guess?: Verification,
  ): Promise<Result<{ read: Verification; saved?: Verification }>> {
    const run = async (): Promise<Result<{ read: Verification; saved?: Verification }>> => {
      let guessed = guess ?? this.deps.store.lastWritten(id);
      for (let i = 0; i < MAX_CONFLICT_RETRIES; i++) {
        const fresh = guessed === undefined;
        const current = guessed ?? (await this.deps.store.getVerification(id));
        guessed = undefined;
        // Another application's verification, or another verification's token, looks exactly like none.
        if (!current || (access && !this.allowed(current, access))) {
          if (fresh) return err("VERIFICATION_NOT_FOUND");
          continue;
        }
        let next = change(current);
        if (next && !("error" in next) && next.stepOver)
          next = this.proceed(next, next.stepOver, this.deps.clock.now());
        if (!next || "error" in next) {
          if (!fresh) continue;
          return next ? { ok: false, error: next.error } : ok({ read: current });
        }
        const ended = isFinal(next.verification) && !isFinal(current);
        // The timer row is written only when it must fire sooner, or never again. A timer left earlier than needed
        // costs one harmless early firing (advanceDue re-arms it); a write per change would cost every verification.
        const wake = nextWake(next.verification, this.attemptDeadlineMs);
        const previous = nextWake(current, this.attemptDeadlineMs);
        const wakeChanged = rewriteTimer || (wake === null ? previous !== null : previous === null || wake < previous);
        const saved = await this.deps.store.saveVerification(
          next.verification,
          current.version,
          next.events,
          ended,
          wakeChanged ? wake : undefined,
        );
        if (saved) {
          if (next.events.length > 0) this.committed(id, next.events);
          if (ended) this.stopChannels(next.verification);
          this.sendAll(next.verification, next.sends ?? []);
          return ok({ read: current, saved: next.verification });
        }
      }
      throw new Error(`verification ${id}: gave up after ${MAX_CONFLICT_RETRIES} conflicting updates`);
    };
    const previous = this.queues.get(id) ?? Promise.resolve();
    const result = previous.then(run, run);
    const tail = result.catch(() => undefined);
    this.queues.set(id, tail);
    void tail.then(() => {
      if (this.queues.get(id) === tail) this.queues.delete(id);
    });
    return result;
  }

  /**
   * A verification that ended needs no more ringing: hang up calls still in progress. Messages already sent cannot
   * be recalled; their receipts are still recorded.
   */
  private stopChannels(v: Verification): void {
    for (const attempt of liveAttempts(v)) {
      if (attempt.channel === "flashcall") this.deps.channels.flashcall.cancel(attempt.id);
    }
  }
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

/** A message code as typed: its digits, separators allowed, ASCII only; null when it cannot be one. */
function readOtp(input: string, length: number): string | null {
  const digits = input.replace(/[\s-]/g, "");
  return /^[0-9]+$/.test(digits) && digits.length === length ? digits : null;
}

function messageOutcome(o: MessageOutcome): AttemptOutcome {
  return { at: o.at, delivered: o.delivered, reason: o.reason, sipCode: null, detail: o.detail };
}
