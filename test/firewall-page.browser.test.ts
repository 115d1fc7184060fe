/**
 * The firewall's report page (`analyze --html`) in Debian's Chromium: flagged calls per calling range with their
 * hourly bars, and the estimated revenue, on a generated day with a known sender.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyzeRecords } from "../src/firewall/analyze.js";
import { firewallConfigSchema } from "../src/firewall/config.js";
import { generateTraffic, KNOWN_SENDER_RANGE } from "../src/firewall/generator/generate.js";
import { MIXES } from "../src/firewall/generator/mixes.js";
import { rangeReport } from "../src/firewall/report.js";
import { reportPage } from "../src/firewall/report-page.js";
import { CHROMIUM, chromiumAvailable, saveScreenshot } from "./support/browser.js";

const available = chromiumAvailable();

describe.skipIf(!available)("the firewall report page in Chromium", { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "flashverify-firewall-page-"));
  const config = firewallConfigSchema.parse({
    known_senders: [{ name: "acme-verify", ranges: [KNOWN_SENDER_RANGE] }],
    charge_per_call: 0.05,
    currency: "GBP",
  });
  const calls = generateTraffic({ mix: MIXES.train!, seed: 21, calls: 10_000 });
  const report = rangeReport(
    analyzeRecords(
      calls.map((c) => c.cdr),
      config,
    ),
    config,
  );
  const file = join(dir, "report.html");
  writeFileSync(file, reportPage(report));
  let browser: Browser;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu"],
    });
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("shows each flagged range with its hourly bars, and the revenue of unknown senders only", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`file://${file}`);
    const flaggedRanges = report.rows.filter((r) => r.flagged > 0);
    const rows = page.locator("#ranges tbody tr");
    expect(await rows.count()).toBe(flaggedRanges.length);
    const first = flaggedRanges[0]!;
    await expect.poll(() => rows.first().locator("td").first().innerText()).toBe(first.range);
    expect(await rows.first().locator("svg rect").count()).toBe(report.hours);
    const revenue = report.rows.filter((r) => r.sender === "unknown").reduce((s, r) => s + r.flagged * 0.05, 0);
    expect(await page.locator("#revenue").innerText()).toContain(`${revenue.toFixed(2)} GBP`);
    const known = page.locator("#ranges tbody tr", { hasText: "known: acme-verify" });
    expect(await known.locator("td").nth(6).innerText()).toBe("0.00 GBP");
    // The overview only: a full-page screenshot of every range is tall and slow.
    await saveScreenshot(page, "firewall-report", "#overview");
    await page.close();
  });
});
