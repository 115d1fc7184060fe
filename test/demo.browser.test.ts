/** The demo page in real Chromium against a real server (see test/support/browser.ts). */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrowserStack, chromiumAvailable, startBrowserStack } from "./support/browser.js";

const available = chromiumAvailable();

describe.skipIf(!available)("the demo page in Chromium", () => {
  let stack: BrowserStack;
  beforeAll(async () => {
    stack = await startBrowserStack();
  }, 30_000);
  afterAll(async () => {
    await stack?.close();
  });

  it("loads its script and styles from the build, under its content security policy", async () => {
    const { page, errors } = await stack.open("/demo");
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toContain("flashverify");
    expect(errors).toEqual([]);
  });
});
