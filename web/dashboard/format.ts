/** How the dashboard writes numbers, money, durations and times. */
import { formatDateTime } from "../shared/format-time.js";

export const usd = (amount: number | null | undefined, digits = 4): string =>
  amount == null ? "–" : `${amount < 0 ? "−" : ""}$${Math.abs(amount).toFixed(digits)}`;

export const percent = (ratio: number | null | undefined): string =>
  ratio == null ? "–" : `${(ratio * 100).toFixed(1)}%`;

export const count = (n: number | null | undefined): string => (n == null ? "–" : n.toLocaleString("en"));

export function duration(ms: number | null | undefined): string {
  if (ms == null) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

export const time = (iso: string | null | undefined): string => (iso ? formatDateTime(iso) : "–");

/** A probability such as 0.0003 as "1 in 3,333". */
export const odds = (p: number): string => (p <= 0 ? "0" : `1 in ${Math.round(1 / p).toLocaleString("en")}`);

/** `{ busy: 3, timeout: 1 }` as "busy 3, timeout 1", most frequent first. */
export const reasons = (byReason: Record<string, number>): string =>
  Object.entries(byReason)
    .sort((a, b) => b[1] - a[1])
    .map(([reason, n]) => `${reason.replace(/_/g, " ")} ${n}`)
    .join(", ") || "–";
