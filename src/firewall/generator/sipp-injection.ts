/**
 * Generated traffic as a SIPp injection file (`-inf`), so SIPp can play it through the proxy: one line per call
 * with the caller, the callee and how long the caller lets it ring before cancelling (test/sipp/firewall/
 * uac-generated.xml reads the fields). Calls are played in file order at SIPp's rate, not at their recorded times.
 */
import type { LabelledCall } from "./generate.js";

export function sippInjection(calls: readonly LabelledCall[], fixedRingMs: number | null = null): string {
  const lines = ["SEQUENTIAL"];
  for (const { cdr } of calls) {
    // A call that was answered or failed still rings a little through SIPp: its outcome is the handset's to play.
    const ring = fixedRingMs ?? (cdr.answered ? Math.min(cdr.ringMs, 3000) : Math.min(cdr.ringMs, 10_000));
    lines.push(`${cdr.caller};${cdr.callee};${ring}`);
  }
  return `${lines.join("\n")}\n`;
}
