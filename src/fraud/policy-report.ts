/**
 * The fraud policy of one application as data, for GET /v1/fraud/policy and the dashboard: every limit, the
 * code-space bound and where each pool stands against it, the number policy, the detector and the caps.
 */
import { type NumberPool, poolOdds } from "../core/pool.js";
import { HIGH_RISK_PREFIXES } from "./high-risk-prefixes.js";
import { formatLimitRule } from "./limit-rules.js";
import type { FraudSettings } from "./settings.js";

export function policyReport(
  settings: FraudSettings,
  applicationId: string,
  pools: readonly NumberPool[],
  maxChecks: number,
) {
  const policy = settings.policyFor(applicationId);
  const rules = <N extends string>(set: Readonly<Record<N, { points: number; durationSec: number } | null>>) =>
    Object.fromEntries(
      Object.entries(set).map(([k, v]) => [k, formatLimitRule(v as { points: number; durationSec: number } | null)]),
    );
  const shipped = new Set(HIGH_RISK_PREFIXES.map((p) => p.prefix));
  return {
    application_id: applicationId,
    max_guess_probability: settings.maxGuessProbability,
    pools: pools.map((p) => {
      const odds = poolOdds(p, maxChecks, settings.maxGuessProbability);
      const { codeLength: code_length, guessProbability: guess_probability, withinBound: within_bound } = odds;
      return {
        id: odds.id,
        name: odds.name,
        countries: odds.countries,
        code_length,
        size: odds.size,
        guess_probability,
        within_bound,
      };
    }),
    start_limits: rules(policy.startLimits),
    check_limits: rules(policy.checkLimits),
    check_failures_per_number: formatLimitRule(policy.checkFailures),
    channels: {
      flashcall: {
        countries: [...policy.numbers.flashcall.countries],
        number_types: [...policy.numbers.flashcall.types],
      },
    },
    high_risk_prefixes: {
      shipped: HIGH_RISK_PREFIXES.map((p) => ({ prefix: p.prefix, why: p.why, source: p.source })),
      configured: [...settings.highRiskPrefixes].filter((p) => !shipped.has(p)),
    },
    pumping: {
      mode: settings.pumping.mode,
      window_minutes: settings.pumping.windowMs / 60_000,
      min_sends_prefix: settings.pumping.minSendsPrefix,
      min_sends_country: settings.pumping.minSendsCountry,
      min_conversion: settings.pumping.minConversion,
      block_hours: settings.pumping.blockMs / 3_600_000,
      max_block_hours: settings.pumping.maxBlockMs / 3_600_000,
    },
    daily_spend_usd: policy.dailySpendMicros === null ? null : policy.dailySpendMicros / 1e6,
    daily_spend_country_usd: policy.dailySpendCountryMicros === null ? null : policy.dailySpendCountryMicros / 1e6,
    risk: {
      challenge_score: settings.risk.challengeScore,
      block_score: settings.risk.blockScore,
      block_action: settings.risk.blockAction,
    },
  };
}

export type PolicyReport = ReturnType<typeof policyReport>;
