/**
 * The risk score of a start: named factors, each adding a fixed weight when its signal is present, summed and
 * capped at 1, then mapped to an outcome. Weights are chosen so that no single signal blocks: blocking takes
 * several (e.g. velocity with an IP in another country and a prefix that rarely converts).
 *
 * Signals, and what each needs:
 * - velocity: starts to this number in the destination limit's window (60% of the limit or more);
 * - ip_velocity: starts from this client IP in its window (60% or more);
 * - prefix_concentration: this prefix's share of the application's recent sends to the country (>= 10%, 5+ sends);
 * - low_prefix_conversion: the prefix's window converts below the detector's threshold at half its minimum volume;
 * - ip_country_mismatch: the IP's country, as a trusted proxy reports it in a header (no GeoIP database), differs
 *   from the number's;
 * - new_device: a device_id this application has not seen verify before (remembered in memory, bounded).
 */
import type { RiskAssessment, RiskFactor, RiskOutcome } from "../core/types.js";
import type { WindowStats } from "./pumping-detector.js";
import type { RiskSettings } from "./settings.js";

export const RISK_WEIGHTS = {
  velocity: 0.3,
  ip_velocity: 0.2,
  prefix_concentration: 0.3,
  low_prefix_conversion: 0.3,
  ip_country_mismatch: 0.3,
  new_device: 0.1,
} as const;

export interface RiskSignals {
  /** destination limit: used and allowed in its window; null when that limit is off */
  destination: { consumed: number; points: number } | null;
  ip: { consumed: number; points: number } | null;
  prefix: WindowStats;
  country: WindowStats;
  /** the detector's threshold and the prefix minimum volume */
  minConversion: number;
  minSendsPrefix: number;
  numberCountry: string;
  ipCountry: string | null;
  /** null when the request named no device */
  newDevice: boolean | null;
}

const VELOCITY_SHARE = 0.6;
const CONCENTRATION_SHARE = 0.1;
const CONCENTRATION_MIN_SENDS = 5;

export function assessRisk(s: RiskSignals, settings: RiskSettings): RiskAssessment {
  const factors: RiskFactor[] = [];
  const add = (name: keyof typeof RISK_WEIGHTS, detail: string) =>
    factors.push({ name, weight: RISK_WEIGHTS[name], detail });

  if (s.destination && s.destination.consumed >= VELOCITY_SHARE * s.destination.points) {
    add("velocity", `${s.destination.consumed} of ${s.destination.points} starts to this number in the window`);
  }
  if (s.ip && s.ip.consumed >= VELOCITY_SHARE * s.ip.points) {
    add("ip_velocity", `${s.ip.consumed} of ${s.ip.points} starts from this IP in the window`);
  }
  if (s.prefix.sends >= CONCENTRATION_MIN_SENDS && s.country.sends > 0) {
    const share = s.prefix.sends / s.country.sends;
    if (share >= CONCENTRATION_SHARE) {
      add(
        "prefix_concentration",
        `${s.prefix.sends} of ${s.country.sends} recent sends to the country hit this prefix`,
      );
    }
  }
  if (s.prefix.sends >= Math.ceil(s.minSendsPrefix / 2) && s.prefix.conversion < s.minConversion) {
    add("low_prefix_conversion", `${s.prefix.verified} of ${s.prefix.sends} recent sends to this prefix verified`);
  }
  if (s.ipCountry !== null && s.ipCountry !== s.numberCountry) {
    add("ip_country_mismatch", `IP in ${s.ipCountry}, number in ${s.numberCountry}`);
  }
  if (s.newDevice === true) add("new_device", "this device has not verified a number of this application before");

  const score = Math.min(1, Math.round(factors.reduce((sum, f) => sum + f.weight, 0) * 100) / 100);
  let outcome: RiskOutcome = "allow";
  const reasons: string[] = [];
  if (score >= settings.blockScore) {
    outcome = settings.blockAction;
    reasons.push(`score ${score} >= block threshold ${settings.blockScore}`);
  } else if (score >= settings.challengeScore) {
    outcome = "challenge";
    reasons.push(`score ${score} >= challenge threshold ${settings.challengeScore}`);
  } else {
    reasons.push(`score ${score} < challenge threshold ${settings.challengeScore}`);
  }
  return { outcome, score, factors, reasons };
}
