/**
 * The verification use cases: start, check, read, next step, cancel, expire. It orchestrates the ports (store,
 * channels, clock, fraud controls) around the pure lifecycle in `verification.ts`; it knows nothing of HTTP or SQL.
 *
 * A start is one pipeline, in this order: plan -> decide -> screen -> persist -> dispatch (see `start`). What the
 * fraud controls screen is the plan as the application's decision callback left it, and the steps after screening
 * take that plan as it is. Every other use case is a `Change` applied by the updater (read, change, save under an
 * optimistic version, retried on conflict).
 */
import { CallerIdAllocator } from "./caller-id-allocator.js";
import { type Change, refuse } from "./change.js";
import { hashToken, tokenHashEquals } from "./codes.js";
import { fileReport, type ReportInput } from "./delivery-report.js";
import { Dispatcher } from "./dispatcher.js";
import { type AppError, err, ok, type Result } from "./errors.js";
import { macKey, readOtp, readReportedCli } from "./matching.js";
import { ReverseCalls } from "./reverse-calls.js";
import { type Created, type Persisted, StartPersister } from "./start-persister.js";
import {
  type StartInput,
  type StartOptions,
  type StartPlan,
  StartPlanner,
  type StartRequest,
} from "./start-planner.js";
import { Steps } from "./steps.js";
import { NO_TEMPLATES, TemplateBook } from "./templates/template-book.js";
import type { DomainEvent, RiskAssessment, Verification, WorkflowStep } from "./types.js";
import {
  type AttemptDeadlineMs,
  advance,
  applyCheck,
  attemptsRemaining,
  cancel,
  expire,
  isFinal,
  markInterrupted,
  nextWake,
  type Transition,
} from "./verification.js";
import type { VerificationServiceDeps } from "./verification-deps.js";
import { type Updated, type UpdateOptions, VerificationUpdater } from "./verification-updater.js";
import { DEFAULT_STEP_TIMEOUT_MS } from "./workflow.js";

export type { Decision, DecisionRequest, PreSendDecider } from "./decision.js";
export type { StartInput, StartOptions } from "./start-planner.js";
export type { PoolSource, VerificationServiceDeps, VerificationSettings } from "./verification-deps.js";

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

/** What a check reports: the digits of a code, or the whole caller ID of the missed call. */
export interface CheckInput {
  code?: string | undefined;
  callerId?: string | undefined;
}

export interface Checked {
  verification: Verification;
  attemptsRemaining: number;
}

const DEFAULT_ATTEMPT_DEADLINE_MS = 120_000;
const DEFAULT_OTP_MAX_CHECKS = 5;
const FLASHCALL_ONLY: WorkflowStep[] = [{ channel: "flashcall", timeoutMs: DEFAULT_STEP_TIMEOUT_MS.flashcall }];
/** a claimed timer whose worker died is handed out again after this */
const TIMER_CLAIM_MS = 30_000;

export class VerificationService {
  private readonly attemptDeadlineMs: AttemptDeadlineMs;
  private readonly planner: StartPlanner;
  private readonly steps: Steps;
  private readonly persister: StartPersister;
  private readonly dispatcher: Dispatcher;
  private readonly updater: VerificationUpdater;
  /** answers inbound calls to the reverse flash call's numbers; null when that channel is not configured */
  readonly reverseCalls: ReverseCalls | null;

  constructor(private readonly deps: VerificationServiceDeps) {
    const { settings, channels, store, hasher, clock } = deps;
    this.attemptDeadlineMs = settings.attemptDeadlineMs ?? DEFAULT_ATTEMPT_DEADLINE_MS;
    const otpMaxChecks = settings.otpMaxChecks ?? DEFAULT_OTP_MAX_CHECKS;
    this.planner = new StartPlanner({
      settings: { ...settings, otpMaxChecks, defaultWorkflow: settings.defaultWorkflow ?? FLASHCALL_ONLY },
      configured: (channel) => channels[channel] !== undefined,
      poolsFor: (country) => deps.pools.poolsFor(country),
      auto: deps.auto,
    });
    this.steps = new Steps(hasher, settings, deps.reverse?.inbound ?? null);
    this.persister = new StartPersister({
      store,
      hasher,
      allocator: new CallerIdAllocator({ store, hasher, clock }),
      steps: this.steps,
      settings: { ...settings, otpMaxChecks },
      attemptDeadlineMs: this.attemptDeadlineMs,
    });
    this.dispatcher = new Dispatcher({
      channels,
      clock,
      fraud: deps.fraud,
      texts:
        deps.texts ??
        new TemplateBook(NO_TEMPLATES, clock, { appName: settings.appName, smsText: settings.otpTemplate }),
      report: (id, change, context) => this.background(id, change, context),
      ended: (v, attemptId, outcome) => this.steps.ended(v, attemptId, outcome),
      onBackgroundError: deps.onBackgroundError,
    });
    this.updater = new VerificationUpdater({
      store,
      attemptDeadlineMs: this.attemptDeadlineMs,
      follow: (t) => this.steps.proceed(t, t.stepOver ?? "step_timeout", clock.now()),
      saved: (t, ended) => this.saved(t, ended),
      rateCard: deps.rateCard,
    });
    const { reverse, fraud } = deps;
    this.reverseCalls = reverse
      ? new ReverseCalls({ ...reverse, store, clock, fraud, update: (id, c) => this.update(id, c) })
      : null;
  }

  /** plan -> decide -> screen -> persist -> dispatch (a review number skips decide and screen: nothing is sent). */
  async start(applicationId: string, input: StartInput, options: StartOptions = {}): Promise<Result<Started>> {
    const request = this.planner.request(applicationId, input, options, this.deps.clock.now());
    if (!request.ok) return request;
    const replay = await this.replayed(request.value);
    if (replay) return replay;
    const planned = this.planner.plan(request.value);
    if (!planned.ok) return planned;
    const review = await this.deps.reviewNumbers?.find(applicationId, request.value.phone.e164);
    if (review) return this.created(request.value, await this.persister.review(request.value, planned.value, review));
    const plan = await this.decide(request.value, planned.value);
    if (plan === "deny") return this.created(request.value, await this.persister.denied(request.value, planned.value));
    const risk = await this.screen(request.value, plan);
    if (!risk.ok) return this.refused(request.value, plan, risk.error);
    return this.created(request.value, await this.persister.persist(request.value, plan, risk.value));
  }

  /**
   * A refused start is answered with its refusal, and recorded (ended, nothing sent) so that the application's list
   * and events show it. A refusal because the controls could not answer is not a decision about the start, and
   * writes nothing while something is already failing.
   */
  private async refused(r: StartRequest, plan: StartPlan, refusal: AppError): Promise<Result<Started>> {
    if (refusal.code === "FRAUD_CHECK_UNAVAILABLE") return { ok: false, error: refusal };
    const recorded = await this.persister.refused(r, plan, refusal).catch((error: unknown) => {
      this.deps.onBackgroundError?.(error, "refusal record");
      return undefined;
    });
    if (recorded && recorded !== "idempotency_taken" && recorded.ok) {
      this.committed(recorded.value.verification, recorded.value.events);
    }
    return { ok: false, error: refusal };
  }

  /** Asks the application's decision callback; the channels it chooses make a new plan, screened as any other. */
  private async decide(r: StartRequest, plan: StartPlan): Promise<StartPlan | "deny"> {
    const client = Object.keys(r.client).length > 0 ? r.client : null;
    const decision = await this.deps.decisions?.decide({
      applicationId: r.applicationId,
      verificationId: r.verificationId,
      phone: r.phone.e164,
      country: r.phone.country,
      channel: plan.channel,
      workflow: plan.workflow.map((step) => step.channel),
      reference: r.input.reference ?? null,
      metadata: r.input.metadata ?? null,
      client,
    });
    if (decision?.decision === "deny") return "deny";
    return decision?.workflow?.length ? this.planner.replan(r, decision.workflow, plan) : plan;
  }

  /** The fraud controls judge the plan that will be sent: number policy, blocks, code space, limits, spend. */
  private async screen(r: StartRequest, plan: StartPlan): Promise<Result<RiskAssessment | null>> {
    if (!this.deps.fraud) return ok(null);
    return this.deps.fraud.screenStart({
      verificationId: r.verificationId,
      applicationId: r.applicationId,
      phone: r.phone.e164,
      country: r.phone.country,
      numberType: r.phone.type,
      channel: plan.channel,
      client: r.client,
      ipCountry: r.ipCountry,
      guessProbability: plan.guessProbability,
      now: r.now,
    });
  }

  /** The persisted start is committed: listeners learn of it, then the dispatcher sends what it holds. */
  private async created(r: StartRequest, persisted: Persisted): Promise<Result<Started>> {
    if (persisted === "idempotency_taken") {
      return (await this.replayed(r)) ?? err("INTERNAL", "an Idempotency-Key was claimed but its record is gone");
    }
    if (!persisted.ok) return persisted;
    const { verification } = persisted.value;
    this.committed(verification, persisted.value.events);
    this.dispatch(persisted.value);
    return ok({ verification, replayed: false, clientToken: this.deps.hasher.clientToken(verification.id) });
  }

  private dispatch({ verification, send }: Created): void {
    if (send.kind === "call") this.dispatcher.call(verification, send.attempt, send.cli);
    else if (send.kind === "shadow_call") this.dispatcher.shadowCall(verification, send.attempt);
    else if (send.kind === "review") this.dispatcher.review(verification, send.attempt);
    // Screened with the start like any first send.
    else if (send.kind === "messages") this.dispatcher.sendAll(verification, send.sends, true);
  }

  /** An earlier request with the same Idempotency-Key: its verification, or a conflict when the body differs. */
  private async replayed(r: StartRequest): Promise<Result<Started> | undefined> {
    if (!r.idempotency) return undefined;
    const earlier = await this.deps.store.findIdempotency(r.applicationId, r.idempotency.key);
    if (!earlier) return undefined;
    if (earlier.requestHash !== r.idempotency.requestHash) return err("IDEMPOTENCY_CONFLICT");
    const verification = await this.deps.store.getVerification(earlier.verificationId);
    if (!verification) return err("INTERNAL");
    return ok({ verification, replayed: true, clientToken: this.deps.hasher.clientToken(verification.id) });
  }

  async get(id: string, access: Access): Promise<Result<Verification>> {
    // Reading an overdue verification settles it, so status never shows `pending` past its expiry.
    const result = await this.update(id, (v) => expire(v, this.deps.clock.now()), { access });
    return result.ok ? ok(result.value.saved ?? result.value.read) : result;
  }

  async check(id: string, access: Access, input: CheckInput, options: CheckOptions = {}): Promise<Result<Checked>> {
    const reportedText = input.callerId ?? input.code;
    if (reportedText === undefined) return err("INVALID_CODE_FORMAT");
    const { clock, fraud, store } = this.deps;
    let locked = false;
    /** the number whose failure budget this check took a place in */
    let reserved: Verification | undefined;
    if (fraud) {
      // Screened whether or not the id names a verification, so an unknown id costs the same and counts the same.
      // The screening reads only what never changes (application, number, token, expiry), so what this process
      // wrote last serves as well as a read.
      const screenedAs = store.lastWritten?.(id) ?? (await store.getVerification(id));
      const visible = screenedAs && this.allowed(screenedAs, access) ? screenedAs : undefined;
      const screened = await fraud.screenCheck({
        applicationId: visible?.applicationId ?? (access.kind === "application" ? access.applicationId : null),
        phone: visible?.phone ?? null,
        ip: options.requestIp ?? null,
        now: clock.now(),
      });
      if (!screened.ok) return screened;
      locked = screened.value.locked;
      reserved = visible;
    }
    const result = await this.update(id, (v) => this.compare(v, reportedText, locked), { access }).catch(
      async (error: unknown) => {
        if (reserved) await fraud?.releaseCheck(reserved.applicationId, reserved.phone);
        throw error;
      },
    );
    const saved = result.ok ? result.value.saved : undefined;
    const failed =
      result.ok &&
      saved !== undefined &&
      saved.status !== "verified" &&
      saved.checksUsed > result.value.read.checksUsed;
    // Only a failed check spends the budget: one that verified, or changed nothing, gives its place back.
    if (reserved && !failed) await fraud?.releaseCheck(reserved.applicationId, reserved.phone);
    if (!result.ok) return result;
    const { read } = result.value;
    if (saved?.status === "verified" && !saved.reviewNumberId) fraud?.recordVerified(saved); // not real traffic
    // Single use: once verified, no later check may read as a success.
    if (!saved && read.status === "verified") return err("ALREADY_VERIFIED");
    const v = saved ?? read;
    return ok({ verification: v, attemptsRemaining: attemptsRemaining(v) });
  }

  /** A check's comparison: the reported code against the current attempt's, counted whatever the outcome. */
  private compare(v: Verification, reportedText: string, locked: boolean): Change {
    const { hasher, clock } = this.deps;
    const now = clock.now();
    if (isFinal(v)) return undefined;
    const expired = expire(v, now);
    if (expired) return expired;
    const attempt = v.attempts.at(-1);
    if (!attempt) return undefined;
    // A superseded step's code stops being accepted when the next step opens: one live code at a time.
    const live = now < attempt.expiresAt;
    if (attempt.channel === "reverse_flashcall") return refuse("NO_CODE_TO_CHECK");
    if (attempt.channel !== "flashcall" || attempt.cliPrefix === null) {
      const code = readOtp(reportedText, attempt.codeLength);
      // The table's message asks for a caller ID, which would mislead whoever holds a message's code.
      const expected = `Send the ${attempt.codeLength}-digit code the message carried, in ASCII digits.`;
      if (code === null) return refuse("INVALID_CODE_FORMAT", expected);
      const codeOk = hasher.codeMatches(macKey(v, attempt.id), code, attempt.codeMac);
      return applyCheck(v, codeOk && live && !locked, null, now);
    }
    const reported = readReportedCli(reportedText, v.country, attempt.codeLength);
    if (!reported) return refuse("INVALID_CODE_FORMAT");
    // Always run the MAC comparison, even when the prefix already differs or the number is locked out, so timing
    // says nothing; a locked-out number's right code counts exactly like a wrong one.
    const codeOk = hasher.codeMatches(macKey(v, attempt.id), reported.code, attempt.codeMac);
    const prefixOk = reported.prefix === null || reported.prefix === attempt.cliPrefix;
    return applyCheck(v, codeOk && prefixOk && live && !locked, attempt.cliPrefix + reported.code, now);
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
        if (isFinal(v)) return refuse("VERIFICATION_NOT_PENDING");
        const expired = expire(v, now);
        if (expired) return expired;
        const current = v.workflow[v.step];
        const atLastStep = v.step >= v.workflow.length - 1;
        const resend = atLastStep && current && current.channel !== "flashcall";
        const from = resend ? { ...v, workflow: [...v.workflow, { ...current }] } : v;
        return this.steps.proceed({ verification: from, events: [] }, "requested", now);
      },
      { access },
    );
    if (!result.ok) return result;
    return ok(result.value.saved ?? result.value.read);
  }

  /** The phone's delivery report on the latest flash call: recorded and measured, never a check. */
  report = (id: string, access: Access, input: ReportInput): Promise<Result<Updated>> =>
    this.update(id, (v) => fileReport(v, input, this.deps.clock.now()), { access });

  async cancel(id: string, access: Access): Promise<Result<Verification>> {
    const result = await this.update(id, (v) => cancel(v, this.deps.clock.now()), { access });
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
        const change = (v: Verification) => advance(v, clock.now(), this.attemptDeadlineMs);
        const result = await this.update(id, change, { rewriteTimer: true });
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
   * the outcomes of the calls it hung up before it closes the store). Run at shutdown.
   */
  settled(): Promise<void> {
    // Shadow calls end now, as a closing channel hangs up its calls, so none is left recorded in flight.
    this.dispatcher.hangUpShadowCalls();
    return this.updater.settled();
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

  private update(
    id: string,
    change: (v: Verification) => Change,
    options: Omit<UpdateOptions, "allowed"> & { access?: Access } = {},
  ): Promise<Result<Updated>> {
    const { access, ...rest } = options;
    return this.updater.update(id, change, { ...rest, allowed: access && ((v) => this.allowed(v, access)) });
  }

  private background(id: string, change: (v: Verification) => Change, context: string): void {
    this.update(id, change).catch((error: unknown) => this.deps.onBackgroundError?.(error, context));
  }

  /** After a save: listeners learn of its events, an ended verification stops ringing, new steps send. */
  private saved(t: Transition, ended: boolean): void {
    if (t.events.length > 0) this.committed(t.verification, t.events);
    if (ended) this.dispatcher.stop(t.verification);
    // A reverse flash call that no longer waits (its verification ended, or the next step opened) frees its number.
    if (ended || t.verification.attempts.at(-1)?.channel !== "reverse_flashcall")
      this.deps.reverse?.inbound.release(t.verification.id);
    this.dispatcher.sendAll(t.verification, t.sends ?? []);
  }

  /** After a commit: live listeners learn which verification moved, the observer what happened. */
  private committed(verification: Verification, events: readonly DomainEvent[]): void {
    this.deps.events?.committed(verification.id, verification.applicationId);
    this.deps.observer?.(events, verification);
  }
}
