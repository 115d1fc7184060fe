/**
 * The reverse flash call in the demo page, in real Chromium against a real server: a busy number's flash call fails,
 * the workflow moves to the reverse flash call, the widget shows "Call this number to verify" with the number as a
 * tel: link and its countdown, and the virtual phone's call button places the call (a real SIP INVITE from the
 * virtual carrier to the server's inbound listener). The widget completes by itself when the server verifies.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENGLISH } from "../sdk/src/widget/strings.js";
import { type BrowserStack, chromiumAvailable, saveScreenshot, startBrowserStack } from "./support/browser.js";
import { poll, widget } from "./support/widget-page.js";

const available = chromiumAvailable();

describe.skipIf(!available)("the reverse flash call in the demo, in Chromium", () => {
  let stack: BrowserStack;
  beforeAll(async () => {
    stack = await startBrowserStack({ FLASHVERIFY_API_KEY: "fv_browser_test_key_reverse_0123" });
  }, 30_000);
  afterAll(async () => {
    await stack?.close();
  });

  it("completes with the virtual phone's call button after the flash call fails", async () => {
    const { page, errors } = await stack.open("/demo");
    await page.getByRole("button", { name: /^Use Busy/ }).click();
    await page.getByLabel(/send the code by/).selectOption("reverse_flashcall");
    await page.getByRole("button", { name: "Verify my number" }).click();

    await poll(() => widget(page).getByRole("status").textContent()).toBe(ENGLISH.callToVerify);
    const link = widget(page).getByRole("link");
    const dial = (await link.textContent()) ?? "";
    expect(dial).toMatch(/^\+44207946099\d$/);
    expect(await link.getAttribute("href")).toBe(`tel:${dial}`);
    await poll(() => widget(page).locator(".countdown").textContent()).toMatch(/^Call within \d:\d\d$/);
    const tree = (await widget(page).ariaSnapshot()).replace(/\d:\d\d/, "M:SS");
    expect(tree.split("\n")).toEqual([
      `- status: ${ENGLISH.callToVerify}`,
      `- paragraph: "${ENGLISH.callToVerifyHint}"`,
      `- link "${dial}":`,
      `  - /url: tel:${dial}`,
      "- paragraph: Call within M:SS",
    ]);
    const call = page.getByRole("button", { name: `Call ${dial}` });
    await call.waitFor();
    await saveScreenshot(page, "demo-reverse-flashcall", ".demo-grid");

    await call.click();
    await poll(() => page.locator(".outgoing-result").textContent()).toContain("603");
    await poll(() => widget(page).getByRole("status").textContent()).toBe("Your number is verified.");
    await poll(() => page.locator(".welcome").textContent()).toContain("+447400120486");
    const events = page.getByRole("list", { name: "Events" });
    await poll(() => events.textContent()).toContain(`waiting for the phone to call ${dial}`);
    await poll(() => events.textContent()).toContain("verified: the call came from +447400120486");
    expect(errors).toEqual([]);
  });
});
