/**
 * The report as one self-contained HTML page (`analyze --html FILE`): flagged calls per hour for the whole day and
 * per calling range, the estimated revenue, and each range's strongest factor. No script, no external asset: an
 * operator can mail it or open it offline.
 */
import type { RangeReport, RangeRow } from "./report.js";

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** An SVG bar chart of hourly counts. */
function bars(values: readonly number[], width: number, height: number, label: string): string {
  const max = Math.max(1, ...values);
  const w = width / Math.max(1, values.length);
  const rects = values
    .map((v, i) => {
      const h = (v / max) * (height - 2);
      return `<rect x="${(i * w).toFixed(1)}" y="${(height - h).toFixed(1)}" width="${Math.max(1, w - 1).toFixed(1)}" height="${h.toFixed(1)}"><title>hour ${i}: ${v}</title></rect>`;
    })
    .join("");
  return `<svg role="img" aria-label="${escapeHtml(label)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${rects}</svg>`;
}

export function reportPage(report: RangeReport, title = "Flash calls by calling range"): string {
  const flaggedRows = report.rows.filter((r) => r.flagged > 0);
  const total = new Array<number>(report.hours).fill(0);
  for (const r of flaggedRows) {
    r.hourly.forEach((v, i) => {
      total[i] = (total[i] as number) + v;
    });
  }
  const flagged = flaggedRows.reduce((s, r) => s + r.flagged, 0);
  const revenue = report.rows.reduce((s, r) => s + r.revenue, 0);
  const calls = report.rows.reduce((s, r) => s + r.calls, 0);
  const money = (v: number) => `${v.toFixed(2)} ${escapeHtml(report.currency)}`;
  const from = new Date(report.firstHour).toISOString().slice(0, 13);
  const row = (r: RangeRow) =>
    `<tr><td><code>${escapeHtml(r.range)}</code></td><td>${escapeHtml(r.sender)}</td><td>${r.calls}</td><td>${r.flagged}</td>` +
    `<td>${((r.flagged / r.calls) * 100).toFixed(1)}%</td><td>${r.unbilledMinutes}</td><td>${money(r.revenue)}</td>` +
    `<td>${bars(r.hourly, 192, 24, `flagged calls per hour for ${r.range}`)}</td><td>${escapeHtml(r.topFactor)}</td></tr>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:2rem;color:#1d2330}table{border-collapse:collapse}td,th{padding:.3rem .6rem;border-bottom:1px solid #dde;text-align:left;vertical-align:middle}
svg rect{fill:#c0392b}.summary{display:flex;gap:2rem;margin:1rem 0}.summary div{font-size:1.4rem}.summary small{display:block;font-size:.8rem;color:#667}
</style></head><body>
<h1>${escapeHtml(title)}</h1>
<p>From ${from}:00 UTC, ${report.hours} hour(s).</p>
<section id="overview">
<div class="summary">
<div id="calls">${calls}<small>calls</small></div>
<div id="flagged">${flagged}<small>flagged as flash calls</small></div>
<div id="revenue">${money(revenue)}<small>estimated revenue (unknown senders)</small></div>
</div>
<h2>Flagged calls per hour</h2>
${bars(total, 720, 120, "flagged calls per hour, all ranges")}
</section>
<h2>Calling ranges with flagged calls (${flaggedRows.length})</h2>
<table id="ranges"><thead><tr><th>range</th><th>sender</th><th>calls</th><th>flagged</th><th>share</th><th>unbilled minutes</th><th>revenue</th><th>per hour</th><th>strongest factor</th></tr></thead>
<tbody>
${flaggedRows.slice(0, 500).map(row).join("\n")}
</tbody></table>
${flaggedRows.length > 500 ? `<p>${flaggedRows.length - 500} more range(s) in the CSV report.</p>` : ""}
</body></html>
`;
}
