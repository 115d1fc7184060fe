/**
 * Accessibility checks with axe-core (npm, Deque's engine, not ours): injected into the page under test and run
 * against the whole document, shadow roots included. Violations come back as one line each, so a failing
 * assertion says which rule failed where.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Page } from "playwright-core";

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** The page's axe violations (WCAG 2.x A/AA and best practices), as "rule: target, target" lines. */
export async function axeViolations(page: Page): Promise<string[]> {
  // Evaluated through the debugging protocol, which the pages' Content-Security-Policy does not govern (a script
  // tag would be refused by it, as it should be).
  await page.evaluate(`${AXE_SOURCE}\n;undefined`);
  const violations = await page.evaluate(async () => {
    // Without a context axe checks the whole document.
    const axe = (globalThis as unknown as { axe: { run(): Promise<AxeResults> } }).axe;
    const results = await axe.run();
    return results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  });
  return violations;
}

interface AxeResults {
  violations: { id: string; nodes: { target: string[] }[] }[];
}
