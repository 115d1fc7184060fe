/**
 * The proxy's decision for a call set-up: the first policy rule whose sender kind and minimum score match, or pass.
 */
import type { InviteVerdict } from "../classifier.js";
import type { PolicyRule } from "../config.js";

export type Action =
  | { action: "pass" }
  | { action: "tag"; header: string }
  | { action: "reject"; code: number; reason: string }
  | { action: "route"; host: string; port: number };

export const PASS: Action = Object.freeze({ action: "pass" });

export function decide(rules: readonly PolicyRule[], verdict: InviteVerdict): Action {
  for (const rule of rules) {
    if (rule.sender !== "any" && rule.sender !== verdict.sender) continue;
    if (verdict.sender === "never" && rule.sender !== "any") continue;
    if (verdict.score < rule.min_score) continue;
    switch (rule.action) {
      case "pass":
        return PASS;
      case "tag":
        return { action: "tag", header: rule.header };
      case "reject":
        return { action: "reject", code: rule.code, reason: rule.reason };
      case "route": {
        const colon = rule.next_hop.lastIndexOf(":");
        return { action: "route", host: rule.next_hop.slice(0, colon), port: Number(rule.next_hop.slice(colon + 1)) };
      }
    }
  }
  return PASS;
}

/** The tag header's value: score, label, range and the strongest factor, for billing and analytics. */
export function tagValue(v: InviteVerdict): string {
  const factor = v.factors[0]?.feature ?? "";
  return `score=${v.score.toFixed(3)};label=${v.label};range="${v.range}";sender=${v.sender};factor="${factor}"`;
}
