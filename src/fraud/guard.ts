/**
 * The fraud controls behind the core's `FraudGuard` port, in the order a start meets them (cheapest and most
 * certain first, and nothing counted against a budget unless the send will happen):
 *
 *   number policy (country, type) -> high-risk prefixes -> blocks -> code space -> failure lockout
 *   -> rate limits -> risk score -> pumping detector -> daily spend caps
 *
 * A limiter that cannot answer (Redis away) refuses the start and the check alike (`FRAUD_CHECK_UNAVAILABLE`, 503
 * with Retry-After): nothing is sent, and no code is accepted that the per-number failure budget could not count,
 * since that budget is what keeps a locked-out number locked across verifications.
 */
import { err, errWith, ok, type Result } from "../core/errors.js";
import { newId } from "../core/ids.js";
import { parseDestination } from "../core/phone.js";
import type {
  CheckScreening,
  Clock,
  FraudGuard,
  FraudRule,
  SendScreening,
  StartScreening,
  Store,
} from "../core/ports.js";
import { RATE_CARD, type RateCard, sendCost } from "../core/rate-card.js";
import type { RiskAssessment, Verification } from "../core/types.js";
import type { LimitDecision, Limiter, LimitStep } from "./limiter.js";
import { matchPrefix, refuseNumber } from "./number-policy.js";
import { destinationPrefix, PumpingDetector, type Trip } from "./pumping-detector.js";
import { assessRisk } from "./risk.js";
import { RuleBook } from "./rule-book.js";
import type { ApplicationPolicy, FraudSettings } from "./settings.js";

const DAY_SEC = 86_400;
const KNOWN_DEVICES_LIMIT = 100_000;
/** rules are reloaded this often, so entries written by another node or the CLI take effect */
const REFRESH_MS = 10_000;

export interface FraudControlsDeps {
  store: Store;
  clock: Clock;
  limiter: Limiter;
  settings: FraudSettings;
  rateCard?: RateCard;
  /** reports limiter failures and failed writes of detector blocks */
  onError?: (error: unknown, context: string) => void;
}

/** Thrown inside screening when the limiter fails: the start is refused rather than let through unlimited. */
class LimiterDown extends Error {}

const retryAfter = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

export class FraudControls implements FraudGuard {
  readonly rules = new RuleBook();
  readonly detector: PumpingDetector;
  private readonly knownDevices = new Set<string>();
  private refreshTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: FraudControlsDeps) {
    this.detector = new PumpingDetector(deps.settings.pumping);
  }

  /** the counters behind every limit, for limits other parts keep on the same backend (inbound calls) */
  get limiter(): Limiter {
    return this.deps.limiter;
  }

  get settings(): FraudSettings {
    return this.deps.settings;
  }

  /** Loads the stored rules and keeps them fresh; call once before serving. */
  async start(): Promise<void> {
    await this.reload();
    this.refreshTimer = setInterval(() => {
      this.reload().catch((error: unknown) => this.deps.onError?.(error, "reloading fraud rules"));
    }, REFRESH_MS);
    this.refreshTimer.unref();
  }

  close(): void {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
  }

  private async reload(): Promise<void> {
    // Expired detector blocks are kept for as long as a block can last: they decide how long the next one is.
    const since = this.deps.clock.now() - this.deps.settings.pumping.maxBlockMs;
    this.rules.replace(await this.deps.store.listFraudRules(since));
  }

  async screenStart(r: StartScreening): Promise<Result<RiskAssessment>> {
    const { settings } = this.deps;
    const policy = settings.policyFor(r.applicationId);

    const refusal = refuseNumber(r.numberType, r.country, r.channel, policy.numbers[r.channel]);
    if (refusal) return errWith(refusal.code, refusal.details);

    const allowed = this.rules.match(r.applicationId, "allow", r.phone, r.country, r.now) !== undefined;
    const highRisk = allowed ? undefined : matchPrefix(r.phone, settings.highRiskPrefixes);
    if (highRisk) return errWith("DESTINATION_BLOCKED", { reason: "high_risk_prefix", prefix: highRisk });

    const block = this.rules.match(r.applicationId, "block", r.phone, r.country, r.now);
    if (block && block.source === "admin") {
      return errWith("DESTINATION_BLOCKED", {
        reason: `blocked_${block.scope}`,
        block_id: block.id,
        ...(block.expiresAt === null ? {} : { blocked_until: new Date(block.expiresAt).toISOString() }),
      });
    }
    if (block && !allowed) return this.pumpingError(block, r.now);

    if (r.channel === "flashcall" && r.guessProbability > settings.maxGuessProbability) {
      return errWith("GUESS_PROBABILITY_TOO_HIGH", {
        guess_probability: r.guessProbability,
        bound: settings.maxGuessProbability,
      });
    }

    // The sandbox's test numbers reach only its virtual phones: the number policy, blocks, code space and spend
    // still apply, but not the limits, score or detector that would stop a newcomer trying each one a few times.
    if (settings.exemptNumbers?.has(r.phone)) return this.screenExempt(r, policy);

    try {
      const limited = await this.consumeStartLimits(r, policy);
      if (!limited.ok) return limited;

      const risk = allowed ? allowedRisk() : this.assess(r, limited.value);
      if (risk.outcome === "block") {
        return errWith("VERIFICATION_BLOCKED", { reasons: risk.reasons, factors: risk.factors.map((f) => f.name) });
      }
      // A shadow block sends nothing, so it is neither a send for the detector nor spend.
      if (risk.outcome === "shadow_block") return ok(risk);

      if (!allowed && settings.pumping.mode !== "off") {
        const trip = this.detector.admit(r.applicationId, r.phone, r.country, r.now);
        if (trip) {
          const tripped = await this.tripped(trip, r);
          if (tripped) return tripped;
        }
      }
      const spent = await this.spend(r, policy);
      if (!spent.ok) {
        if (!allowed && settings.pumping.mode !== "off")
          this.detector.unadmit(r.applicationId, r.phone, r.country, r.now);
        return spent;
      }
      return ok(risk);
    } catch (error) {
      if (error instanceof LimiterDown)
        return { ok: false, error: { code: "FRAUD_CHECK_UNAVAILABLE", retryAfterSeconds: 1 } };
      throw error;
    }
  }

  private async screenExempt(r: StartScreening, policy: ApplicationPolicy): Promise<Result<RiskAssessment>> {
    try {
      // A number locked out by wrong codes stays locked: its checks would be refused anyway.
      const [failures] = await this.limits(
        [{ op: "peek", name: "check.failures", rule: policy.checkFailures, key: `${r.applicationId}|${r.phone}` }],
        "start",
      );
      if (failures && !failures.allowed) {
        return errWith("RATE_LIMITED", { limit: "check_failures" }, retryAfter(failures.msBeforeNext));
      }
      const spent = await this.spend(r, policy);
      return spent.ok ? ok(exemptRisk()) : spent;
    } catch (error) {
      if (error instanceof LimiterDown)
        return { ok: false, error: { code: "FRAUD_CHECK_UNAVAILABLE", retryAfterSeconds: 1 } };
      throw error;
    }
  }

  async screenSend(r: SendScreening): Promise<Result<void>> {
    const policy = this.deps.settings.policyFor(r.applicationId);
    const refusal = refuseNumber(r.numberType, r.country, r.channel, policy.numbers[r.channel]);
    if (refusal) return errWith(refusal.code, refusal.details);
    const allowed = this.rules.match(r.applicationId, "allow", r.phone, r.country, r.now) !== undefined;
    const block = this.rules.match(r.applicationId, "block", r.phone, r.country, r.now);
    if (block && block.source === "admin") return errWith("DESTINATION_BLOCKED", { reason: `blocked_${block.scope}` });
    if (block && !allowed) return this.pumpingError(block, r.now);
    try {
      return await this.spend(r, policy);
    } catch (error) {
      if (error instanceof LimiterDown) {
        return { ok: false, error: { code: "FRAUD_CHECK_UNAVAILABLE", retryAfterSeconds: 1 } };
      }
      throw error;
    }
  }

  /** Runs the steps in one go (see `Limiter.run`); a limiter that fails throws `LimiterDown`. */
  private async limits(steps: LimitStep[], context: string): Promise<(LimitDecision | undefined)[]> {
    try {
      return await this.deps.limiter.run(steps);
    } catch (error) {
      this.deps.onError?.(error, `rate limiter (${context})`);
      throw new LimiterDown();
    }
  }

  /**
   * Refuses a number locked out by failed checks, then spends one send of every configured start limit; the first
   * exhausted one refuses, and those after it are not spent.
   */
  private async consumeStartLimits(
    r: StartScreening,
    policy: ApplicationPolicy,
  ): Promise<
    Result<{
      destination: { consumed: number; points: number } | null;
      ip: { consumed: number; points: number } | null;
    }>
  > {
    const app = r.applicationId;
    const keys = {
      destination: r.phone,
      prefix: destinationPrefix(r.phone),
      country: r.country,
      ip: r.client.ip,
      device: r.client.device_id,
      application: "",
    } as const;
    const limits: { name: keyof typeof keys; points: number }[] = [];
    const steps: LimitStep[] = [
      { op: "peek", name: "check.failures", rule: policy.checkFailures, key: `${app}|${r.phone}` },
    ];
    for (const name of Object.keys(keys) as (keyof typeof keys)[]) {
      const rule = policy.startLimits[name];
      const value = keys[name];
      if (!rule || value === undefined) continue;
      limits.push({ name, points: rule.points });
      steps.push({ op: "consume", name: `start.${name}`, rule, key: `${app}|${value}` });
    }
    const [failures, ...decisions] = await this.limits(steps, "start");
    if (failures && !failures.allowed) {
      return errWith("RATE_LIMITED", { limit: "check_failures" }, retryAfter(failures.msBeforeNext));
    }
    const seen: Record<string, { consumed: number; points: number }> = {};
    for (const [i, decision] of decisions.entries()) {
      const { name, points } = limits[i] as (typeof limits)[number];
      if (!decision) continue;
      if (!decision.allowed) {
        return errWith("RATE_LIMITED", { limit: name, action: "start" }, retryAfter(decision.msBeforeNext));
      }
      seen[name] = { consumed: decision.consumed, points };
    }
    return ok({ destination: seen.destination ?? null, ip: seen.ip ?? null });
  }

  private assess(
    r: StartScreening,
    velocity: {
      destination: { consumed: number; points: number } | null;
      ip: { consumed: number; points: number } | null;
    },
  ): RiskAssessment {
    const { pumping, risk } = this.deps.settings;
    const device = r.client.device_id;
    return assessRisk(
      {
        ...velocity,
        prefix: this.detector.stats(r.applicationId, "prefix", destinationPrefix(r.phone), r.now),
        country: this.detector.stats(r.applicationId, "country", r.country, r.now),
        minConversion: pumping.minConversion,
        minSendsPrefix: pumping.minSendsPrefix,
        numberCountry: r.country,
        ipCountry: r.ipCountry,
        newDevice: device === undefined ? null : !this.knownDevices.has(`${r.applicationId}|${device}`),
      },
      risk,
    );
  }

  /** Reserves the send's list price against the application's and the country's daily caps. */
  private async spend(
    r: Pick<StartScreening, "applicationId" | "channel" | "country">,
    policy: ApplicationPolicy,
  ): Promise<Result<void>> {
    const cost = Math.round(sendCost(r.channel, r.country, this.deps.rateCard ?? RATE_CARD) * 1e6);
    const caps = [
      ["application", policy.dailySpendMicros, `${r.applicationId}`],
      ["country", policy.dailySpendCountryMicros, `${r.applicationId}|${r.country}`],
    ] as const;
    const budgets: { budget: string; cap: number }[] = [];
    const steps: LimitStep[] = [];
    for (const [budget, cap, key] of caps) {
      if (cap === null || cost === 0) continue;
      budgets.push({ budget, cap });
      steps.push({
        op: "consume",
        name: `spend.${budget}`,
        rule: { points: cap, durationSec: DAY_SEC },
        key,
        points: cost,
      });
    }
    const decisions = await this.limits(steps, "spend");
    const refused = decisions.findIndex((decision) => decision && !decision.allowed);
    if (refused < 0) return ok(undefined);
    // Refused sends cost nothing: give back what this start reserved, the refused budget's included.
    for (const step of steps.slice(0, refused + 1)) {
      await this.deps.limiter.refund(step.name, step.rule, step.key, cost).catch(() => undefined);
    }
    const { budget, cap } = budgets[refused] as (typeof budgets)[number];
    const decision = decisions[refused] as LimitDecision;
    return errWith("SPEND_CAP_REACHED", { budget, cap_usd: cap / 1e6 }, retryAfter(decision.msBeforeNext));
  }

  private pumpingError(block: FraudRule, now: number): Result<never> {
    const until = block.expiresAt ?? now;
    return errWith(
      "SUSPECTED_PUMPING",
      { scope: block.scope, value: block.value, blocked_until: new Date(until).toISOString() },
      retryAfter(until - now),
    );
  }

  /**
   * The detector tripped: records a block (or, in shadow mode, what would have been blocked) with its
   * `verification.blocked` event, doubling the last block's length when this key was blocked recently.
   */
  private async tripped(trip: Trip, r: StartScreening): Promise<Result<never> | undefined> {
    const { pumping } = this.deps.settings;
    const shadow = pumping.mode === "shadow";
    const existing = this.rules.match(r.applicationId, "block", r.phone, r.country, r.now, true);
    // In shadow mode one record per episode is enough: the send goes ahead.
    if (shadow && existing?.shadow) return undefined;
    const last = this.rules.lastDetectorBlock(r.applicationId, trip.scope, trip.value);
    let duration = pumping.blockMs;
    if (last && last.expiresAt !== null) {
      const lastDuration = last.expiresAt - last.createdAt;
      if (r.now - last.expiresAt <= lastDuration) duration = Math.min(lastDuration * 2, pumping.maxBlockMs);
    }
    const rule: FraudRule = {
      id: newId("frd", r.now),
      applicationId: r.applicationId,
      list: "block",
      scope: trip.scope,
      value: trip.value,
      reason: "SUSPECTED_PUMPING",
      source: "detector",
      shadow,
      createdAt: r.now,
      expiresAt: r.now + duration,
    };
    this.rules.add(rule);
    const data = {
      reason: "SUSPECTED_PUMPING",
      rule_id: rule.id,
      scope: trip.scope,
      value: trip.value,
      shadow,
      blocked_until: new Date(r.now + duration).toISOString(),
      sends: trip.stats.sends,
      verified: trip.stats.verified,
      conversion: trip.stats.conversion,
      phone: r.phone,
    };
    const event = {
      type: "verification.blocked" as const,
      verificationId: r.verificationId,
      attemptId: null,
      at: r.now,
      data,
    };
    await this.deps.store
      .insertFraudRule(rule, [event])
      .catch((error: unknown) => this.deps.onError?.(error, "recording a pumping block"));
    return shadow ? undefined : this.pumpingError(rule, r.now);
  }

  async screenCheck(r: CheckScreening): Promise<Result<{ locked: boolean }>> {
    const app = r.applicationId ?? "";
    const policy = this.deps.settings.policyFor(app);
    const keys = { destination: r.phone, ip: r.ip, application: r.applicationId === null ? null : "" } as const;
    const names: (keyof typeof keys)[] = [];
    const steps: LimitStep[] = [];
    for (const name of Object.keys(keys) as (keyof typeof keys)[]) {
      const rule = policy.checkLimits[name];
      const value = keys[name];
      if (!rule || value === null) continue;
      names.push(name);
      steps.push({ op: "consume", name: `check.${name}`, rule, key: `${app}|${value}` });
    }
    // Last, after the counts: a locked-out number's check is still counted. The check takes its place in the
    // failure budget here, before any code is compared, in the same atomic step that tells whether one was left.
    if (r.phone !== null) {
      steps.push({ op: "consume", name: "check.failures", rule: policy.checkFailures, key: `${app}|${r.phone}` });
    }
    try {
      const decisions = await this.deps.limiter.run(steps);
      for (const [i, name] of names.entries()) {
        const decision = decisions[i];
        if (decision && !decision.allowed) {
          return errWith("RATE_LIMITED", { limit: name, action: "check" }, retryAfter(decision.msBeforeNext));
        }
      }
      const failures = r.phone === null ? undefined : decisions[names.length];
      return ok({ locked: failures !== undefined && !failures.allowed });
    } catch (error) {
      this.deps.onError?.(error, "rate limiter (check)");
      return { ok: false, error: { code: "FRAUD_CHECK_UNAVAILABLE", retryAfterSeconds: 1 } };
    }
  }

  async releaseCheck(applicationId: string, phone: string): Promise<void> {
    const rule = this.deps.settings.policyFor(applicationId).checkFailures;
    await this.deps.limiter
      .refund("check.failures", rule, `${applicationId}|${phone}`, 1)
      .catch((error: unknown) => this.deps.onError?.(error, "rate limiter (check failures)"));
  }

  /** Places of the number's failure budget taken in its current window (wrong checks, and checks under way). */
  async checkFailures(applicationId: string, phone: string): Promise<number> {
    const rule = this.deps.settings.policyFor(applicationId).checkFailures;
    return (await this.deps.limiter.peek("check.failures", rule, `${applicationId}|${phone}`))?.consumed ?? 0;
  }

  recordVerified(v: Verification): void {
    const now = this.deps.clock.now();
    this.detector.verified(v.applicationId, v.phone, v.country, now);
    const device = v.client?.device_id;
    if (device !== undefined) {
      // Bounded memory: when full, start over (devices then look new again, which only weighs 0.1).
      if (this.knownDevices.size >= KNOWN_DEVICES_LIMIT) this.knownDevices.clear();
      this.knownDevices.add(`${v.applicationId}|${device}`);
    }
  }

  /**
   * Adds an admin block or allow-list entry. A number is normalised to E.164 (so every spelling of it matches);
   * a prefix is `+` and 1..14 digits, a country an ISO code.
   */
  async addRule(input: {
    applicationId: string;
    list: FraudRule["list"];
    scope: FraudRule["scope"];
    value: string;
    reason?: string | undefined;
    expiresInSeconds?: number | undefined;
  }): Promise<Result<FraudRule>> {
    const now = this.deps.clock.now();
    let value = input.value;
    if (input.scope === "number") {
      const parsed = parseDestination(input.value);
      if (!parsed) return err("INVALID_PHONE_NUMBER");
      value = parsed.e164;
    } else if (input.scope === "prefix" && !/^\+[1-9][0-9]{0,13}$/.test(value)) {
      return err("INVALID_REQUEST", "value: a prefix is + and 1 to 14 digits, e.g. +4474001");
    } else if (input.scope === "country" && !/^[A-Z]{2}$/.test(value)) {
      return err("INVALID_REQUEST", "value: a country is an ISO 3166-1 alpha-2 code, e.g. GB");
    }
    const rule: FraudRule = {
      id: newId("frd", now),
      applicationId: input.applicationId,
      list: input.list,
      scope: input.scope,
      value,
      reason: input.reason ?? "",
      source: "admin",
      shadow: false,
      createdAt: now,
      expiresAt: input.expiresInSeconds === undefined ? null : now + input.expiresInSeconds * 1000,
    };
    await this.deps.store.insertFraudRule(rule, []);
    this.rules.add(rule);
    return ok(rule);
  }

  async removeRule(applicationId: string, list: FraudRule["list"], id: string): Promise<boolean> {
    const rule = this.rules.get(id);
    if (rule && rule.list !== list) return false;
    const removed = await this.deps.store.deleteFraudRule(applicationId, id);
    if (removed) this.rules.remove(id);
    // Lifting a detector block lifts it: the window that tripped it would otherwise trip it again on the next send.
    if (removed && rule?.source === "detector" && rule.scope !== "number") {
      this.detector.forget(applicationId, rule.scope, rule.value);
    }
    return removed;
  }

  listRules(applicationId: string, list: FraudRule["list"]): FraudRule[] {
    return this.rules.list(applicationId, list, this.deps.clock.now());
  }
}

function exemptRisk(): RiskAssessment {
  return { outcome: "allow", score: 0, factors: [], reasons: ["sandbox test number"] };
}

/** Allow-listed numbers skip the score: they are known good. */
function allowedRisk(): RiskAssessment {
  return { outcome: "allow", score: 0, factors: [], reasons: ["allow-listed"] };
}
