/**
 * The persist step of a start: writes the verification exactly as its screened plan says, with its first attempt,
 * its CLI lease and its events, in one transaction, and says what the dispatcher is to send. It takes the plan as
 * it was screened and changes none of it: the first step, its channel and its pool are the plan's.
 */

import { flashcallAttempt, messageAttempt } from "./attempts.js";
import type { CallerIdAllocator } from "./caller-id-allocator.js";
import { type CodeHasher, hashToken } from "./codes.js";
import { type AppError, ERRORS, err, ok, type Result } from "./errors.js";
import { newId } from "./ids.js";
import { cliPrefix } from "./pool.js";
import type { IdempotencyRecord, NewVerification, Store } from "./ports.js";
import { type ReviewNumberRecord, reviewStep } from "./review-numbers.js";
import type { StartPlan, StartRequest } from "./start-planner.js";
import type { Steps } from "./steps.js";
import type { Attempt, DomainEvent, RiskAssessment, Verification } from "./types.js";
import {
  type AttemptDeadlineMs,
  newBlockedVerification,
  newVerification,
  nextWake,
  openStep,
  type PendingSend,
  skipStep,
  startedEvents,
} from "./verification.js";
import { stepReaches } from "./workflow.js";

/** a lease outlives its verification's expiry by this much, so a crashed process cannot hold a CLI forever */
const LEASE_GRACE_MS = 60_000;

/**
 * What the dispatcher sends for a new verification: nothing for a denied one; for a shadow-blocked flash call, a
 * call that only seems to happen (see `Dispatcher.shadowCall`).
 */
export type FirstSend =
  | { kind: "call"; attempt: Attempt; cli: string }
  | { kind: "shadow_call"; attempt: Attempt }
  /** a review number's step: nothing is sent, and the attempt completes at once (see `Dispatcher.review`) */
  | { kind: "review"; attempt: Attempt }
  | { kind: "messages"; sends: PendingSend[] }
  | { kind: "none" };

export interface Created {
  verification: Verification;
  events: DomainEvent[];
  send: FirstSend;
}

/** `idempotency_taken`: a concurrent request with the same Idempotency-Key created its verification first. */
export type Persisted = Result<Created> | "idempotency_taken";

export interface PersisterDeps {
  store: Store;
  hasher: CodeHasher;
  allocator: CallerIdAllocator;
  steps: Steps;
  settings: { verificationTtlMs: number; flashcallMaxChecks: number; otpMaxChecks: number };
  attemptDeadlineMs: AttemptDeadlineMs;
}

export class StartPersister {
  constructor(private readonly deps: PersisterDeps) {}

  /** The application's callback said deny: the verification is recorded ended, and nothing is sent. */
  async denied(r: StartRequest, plan: StartPlan): Promise<Persisted> {
    const blocked = newBlockedVerification({
      ...this.request(r),
      input: r.input,
      reason: "denied_by_application",
      settings: this.deps.settings,
      workflow: [...plan.workflow],
    });
    return leaseless(
      await this.create({ verification: blocked.verification, events: blocked.events }, r, { kind: "none" }),
    );
  }

  /**
   * The fraud controls refused the start: it is recorded ended (status `failed`, reason `refused`) with the refusal,
   * so that it is listed and kept like any verification, and nothing is sent.
   */
  async refused(r: StartRequest, plan: StartPlan, refusal: AppError): Promise<Persisted> {
    const blocked = newBlockedVerification({
      ...this.request(r),
      input: r.input,
      reason: "refused",
      settings: this.deps.settings,
      workflow: [...plan.workflow],
      refusal: {
        code: refusal.code,
        message: refusal.message ?? ERRORS[refusal.code].message,
        details: refusal.details ?? null,
      },
    });
    // Not under the request's Idempotency-Key: a retry after the refusal's reason has passed is a new start.
    const fresh = { ...r, idempotency: undefined };
    return leaseless(
      await this.create({ verification: blocked.verification, events: blocked.events }, fresh, { kind: "none" }),
    );
  }

  async persist(r: StartRequest, plan: StartPlan, risk: RiskAssessment | null): Promise<Persisted> {
    const { settings, steps } = this.deps;
    const workflow = [...plan.workflow];
    const hasFlashcall = workflow.some((step) => step.channel === "flashcall");
    const draft = newVerification({
      ...this.request(r),
      workflow,
      email: r.input.email ?? null,
      maxChecks: hasFlashcall ? settings.flashcallMaxChecks : settings.otpMaxChecks,
      expiresAt: r.now + Math.min(settings.verificationTtlMs, sum(workflow.map((step) => step.timeoutMs))),
      risk,
    });
    if (plan.channelChoice) draft.channelChoice = plan.channelChoice;
    const skipped: DomainEvent[] = [];
    for (let i = 0; i < plan.first; i++) {
      const reach = stepReaches(workflow[i]?.channel ?? "flashcall", r.destination);
      skipped.push(skipStep(draft, { index: i, to: i + 1, reason: reach.ok ? "requested" : reach.reason, at: r.now }));
    }
    if (!plan.pool) {
      const opened = steps.openMessageStep(draft, plan.first, null, r.now);
      if (!opened) return err("NO_INBOUND_NUMBER");
      const events = [...startedEvents(opened.verification), ...skipped, ...opened.events];
      const send: FirstSend = { kind: "messages", sends: opened.sends ?? [] };
      return leaseless(await this.create({ verification: opened.verification, events }, r, send));
    }
    return this.persistCall(r, plan, draft, skipped, risk?.outcome === "shadow_block");
  }

  /**
   * A review number's start: the one step it serves (see `reviewStep`), with no CLI leased and no risk assessment.
   * Its codes are MACs keyed by the verification, not the attempt, so a resend's attempt takes the same fixed code.
   */
  async review(r: StartRequest, plan: StartPlan, number: ReviewNumberRecord): Promise<Persisted> {
    const { settings, hasher } = this.deps;
    const picked = reviewStep(plan.workflow, plan.first, number, plan.pool?.codeLength ?? null);
    if (!picked.ok) return picked;
    const pick = picked.value;
    const flashcall = pick.callerId !== null && plan.pool !== null;
    const draft: Verification = {
      ...newVerification({
        ...this.request(r),
        workflow: [pick.step],
        email: r.input.email ?? null,
        maxChecks: flashcall ? settings.flashcallMaxChecks : settings.otpMaxChecks,
        expiresAt: r.now + Math.min(settings.verificationTtlMs, pick.step.timeoutMs),
        risk: null,
      }),
      reviewNumberId: number.id,
    };
    const id = newId("att", r.now);
    const common = {
      id,
      verificationId: r.verificationId,
      seq: 1,
      codeMac: hasher.codeMac(r.verificationId, pick.code),
    };
    const attempt =
      flashcall && plan.pool && pick.callerId
        ? flashcallAttempt({
            ...common,
            pool: plan.pool,
            cliKey: `review_${id}`,
            cliPrefix: cliPrefix(pick.callerId, plan.pool.codeLength),
            cost: null,
            now: r.now,
          })
        : messageAttempt({
            ...common,
            channel: pick.step.channel as Exclude<typeof pick.step.channel, "flashcall">,
            codeLength: pick.code.length,
            cost: null,
            now: r.now,
          });
    const guessProbability = draft.maxChecks / 10 ** attempt.codeLength;
    const opened = openStep(draft, { index: 0, attempt, at: r.now, guessProbability, reason: null });
    const { verification } = opened;
    const started = startedEvents(verification).map((e) => ({ ...e, data: { ...e.data, review: true } }));
    const send: FirstSend = { kind: "review", attempt: verification.attempts.at(-1) as Attempt };
    return leaseless(await this.create({ verification, events: [...started, ...opened.events] }, r, send));
  }

  /** A flash call: leases a CLI of the plan's pool in the transaction that creates the verification. */
  private async persistCall(
    r: StartRequest,
    plan: StartPlan,
    draft: Verification,
    skipped: DomainEvent[],
    shadow: boolean,
  ): Promise<Persisted> {
    const { hasher, allocator } = this.deps;
    const pool = plan.pool;
    if (!pool) return err("INTERNAL", "a flash call was planned without a pool");
    const attemptId = newId("att", r.now);
    const persisted = await allocator.allocate(pool, r.phone.e164, ({ cli, cliKey }, lastCliKey) => {
      const prefix = cliPrefix(cli, pool.codeLength);
      // A shadow block answers like any start but sends nothing: its attempt holds no real CLI or code, costs
      // nothing, and dials, rings and ends as a real call would, with nothing on the wire.
      const attempt = flashcallAttempt({
        id: attemptId,
        verificationId: r.verificationId,
        seq: 1,
        pool,
        cliKey: shadow ? `shadow_${attemptId}` : cliKey,
        cliPrefix: prefix,
        codeMac: hasher.codeMac(attemptId, shadow ? "shadow" : cli.slice(-pool.codeLength)),
        cost: null,
        now: r.now,
      });
      // The attacker's odds: each check guesses among the pool numbers that share the prefix the pattern shows.
      const guessProbability = draft.maxChecks / pool.codesSharing(prefix);
      const opened = openStep(draft, { index: plan.first, attempt, at: r.now, guessProbability, reason: null });
      const { verification } = opened;
      const leased = verification.attempts.at(-1) as Attempt;
      const send: FirstSend = shadow
        ? { kind: "shadow_call", attempt: leased }
        : { kind: "call", attempt: leased, cli };
      return this.create(
        {
          verification,
          events: [...startedEvents(verification), ...skipped, ...opened.events],
          lease: {
            poolId: pool.id,
            cliKey: attempt.cliKey as string,
            verificationId: r.verificationId,
            expiresAt: verification.expiresAt + LEASE_GRACE_MS,
          },
          phoneLastCliKey: shadow ? (lastCliKey ?? (attempt.cliKey as string)) : cliKey,
        },
        r,
        send,
      );
    });
    return persisted ?? err("POOL_EXHAUSTED");
  }

  private request(r: StartRequest) {
    const client = Object.keys(r.client).length > 0 ? r.client : undefined;
    return {
      id: r.verificationId,
      applicationId: r.applicationId,
      phone: r.phone,
      input: { ...r.input, client },
      clientTokenHash: hashToken(this.deps.hasher.clientToken(r.verificationId)),
      now: r.now,
    };
  }

  private async create(
    write: Omit<NewVerification, "idempotency" | "wakeAt">,
    r: StartRequest,
    send: FirstSend,
  ): Promise<Persisted | "cli_taken"> {
    const idempotency: IdempotencyRecord | undefined = r.idempotency && {
      ...r.idempotency,
      applicationId: r.applicationId,
      verificationId: r.verificationId,
      createdAt: r.now,
    };
    const { verification } = write;
    const wakeAt = nextWake(verification, this.deps.attemptDeadlineMs);
    const created = await this.deps.store.createVerification({ ...write, idempotency, wakeAt });
    if (created !== "created") return created;
    return ok({ verification, events: write.events, send });
  }
}

/** A write that holds no lease cannot find its CLI taken. */
function leaseless(persisted: Persisted | "cli_taken"): Persisted {
  return persisted === "cli_taken" ? err("INTERNAL", "a write without a lease found its CLI taken") : persisted;
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
