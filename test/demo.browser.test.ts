/**
 * The demo page in real Chromium against a real server (see test/support/browser.ts): a visitor signs up, the
 * virtual phone beside the form shows the missed call, and the visitor types the last digits of its caller ID into
 * the widget; a busy number falls back to SMS, and the code read off the phone's messages verifies it. The
 * screenshots these take are the README's.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENGLISH } from "../sdk/src/widget/strings.js";
import { type BrowserStack, chromiumAvailable, saveScreenshot, startBrowserStack } from "./support/browser.js";
import { poll, verificationId, widget } from "./support/widget-page.js";

const available = chromiumAvailable();
const API_KEY = "fv_browser_test_key_0123456789";

describe.skipIf(!available)("the demo page in Chromium", () => {
  let stack: BrowserStack;
  beforeAll(async () => {
    // Long enough a ring to see (and photograph) the incoming call on the virtual phone.
    stack = await startBrowserStack({ SIP_RING_TIME_MS: "2000", FLASHVERIFY_API_KEY: API_KEY });
  }, 30_000);
  afterAll(async () => {
    await stack?.close();
  });

  it("verifies a number by the last digits of the missed call shown on the virtual phone", async () => {
    const { page, errors } = await stack.open("/demo");
    await page.getByLabel("Mobile number").fill("+447400123456");
    await page.getByRole("button", { name: "Verify my number" }).click();

    // The widget waits for the call with the masked pattern; the phone rings with the full caller ID.
    await poll(() => widget(page).getByRole("status").textContent()).toBe("Waiting for call…");
    const incoming = page.locator(".incoming .caller-id");
    await incoming.waitFor();
    const callerId = (await incoming.textContent()) ?? "";
    expect(callerId).toMatch(/^\+44\d{10}$/);
    const pattern = (await widget(page).locator(".pattern").textContent()) ?? "";
    expect(pattern).toBe(`${callerId.slice(0, -4)}****`);
    const input = widget(page).getByLabel("Last 4 digits of the missed call");
    await poll(() => input.evaluate((el) => el === el.getRootNode().activeElement)).toBe(true);
    await poll(() => widget(page).locator(".countdown").textContent()).toMatch(/^Code expires in 0:\d\d$/);
    await saveScreenshot(page, "demo-waiting-for-call", ".demo-grid");
    await saveScreenshot(page, "widget-waiting-for-call", "flashverify-widget");
    // What a screen reader finds, in focus order: a live status, the hint, the pattern, the labelled field, buttons.
    // (On a loaded machine the screenshots may outlast the ring: then the call has come, and the widget says so.)
    const tree = (await widget(page).ariaSnapshot()).replace(pattern, "PATTERN").replace(/\d:\d\d/, "M:SS");
    const called = tree.startsWith(`- status: ${ENGLISH.callArrived}\n`);
    expect(tree.split("\n")).toEqual([
      `- status: ${called ? ENGLISH.callArrived : ENGLISH.waitingForCall}`,
      `- paragraph: "${(called ? ENGLISH.callArrivedHint : ENGLISH.callHint)(pattern, 4)}"`,
      "- paragraph: PATTERN",
      "- paragraph: Code expires in M:SS",
      "- text: Last 4 digits of the missed call",
      '- textbox "Last 4 digits of the missed call"',
      '- button "Verify"',
      '- button "Use SMS instead"',
    ]);

    // The call ends unanswered: a missed call in the log, with the caller ID the widget asks about.
    await poll(() => page.locator(".calls .call-missed .caller-id").first().textContent()).toBe(callerId);
    // The widget says the call has come: the code is on the phone now, not still on its way.
    await poll(() => widget(page).getByRole("status").textContent()).toBe("Missed call received");
    await input.fill(callerId.slice(-4));
    await widget(page).getByRole("button", { name: "Verify" }).click();
    await poll(() => widget(page).getByRole("status").textContent()).toBe("Your number is verified.");
    await poll(() => page.locator(".welcome").textContent()).toContain("+447400123456");
    await saveScreenshot(page, "widget-verified", "flashverify-widget");
    expect(errors).toEqual([]);
  });

  it("falls back to SMS for a busy number, and verifies with the code the SMS brought", async () => {
    const { page, errors } = await stack.open("/demo");
    await page.getByRole("button", { name: /^Use Busy/ }).click();
    expect(await page.getByLabel("Mobile number").inputValue()).toBe("+447400120486");
    await page.getByRole("button", { name: "Verify my number" }).click();

    await poll(() => widget(page).getByRole("status").textContent()).toBe("We sent you a code by SMS");
    expect(await widget(page).locator(".hint").textContent()).toContain("The call could not reach your phone");
    await poll(() => page.locator(".calls .call-busy .call-result").first().textContent()).toContain("busy");
    const sms = page.locator(".message-sms .message-text").first();
    await sms.waitFor();
    const code = /\b(\d{6})\b/.exec((await sms.textContent()) ?? "")?.[1] ?? "";
    expect(code).toMatch(/^\d{6}$/);
    // The server's side of it, from the verification's events: the busy call, then the fallback.
    const events = page.getByRole("list", { name: "Events" });
    await poll(() => events.textContent()).toContain("flash call failed: busy (SIP 486)");
    await poll(() => events.textContent()).toContain("fallback from flash call to SMS (attempt_failed)");
    await saveScreenshot(page, "demo-busy-sms", ".demo-grid");

    const input = widget(page).getByLabel("6-digit code");
    // A wrong code first: the widget says so, with the attempts left, and keeps the field for another try.
    await input.fill(code === "000000" ? "111111" : "000000");
    await widget(page).getByRole("button", { name: "Verify" }).click();
    await poll(() => widget(page).getByRole("alert").textContent()).toBe("That code is not right. 2 attempts left.");
    expect(await input.getAttribute("aria-invalid")).toBe("true");
    await saveScreenshot(page, "widget-wrong-code", "flashverify-widget");
    await input.fill(code);
    await widget(page).getByRole("button", { name: "Verify" }).click();
    await poll(() => widget(page).getByRole("status").textContent()).toBe("Your number is verified.");
    expect(errors).toEqual([]);
  });

  it("on a phone-sized screen, 'Use WhatsApp instead' hangs up the call and the WhatsApp code verifies", async () => {
    const { page, errors } = await stack.open("/demo", { width: 390, height: 844 });
    await page.getByLabel("Mobile number").fill("+447400123457");
    await page.getByLabel("If the call cannot reach the phone, send the code by").selectOption("whatsapp");
    await page.getByRole("button", { name: "Verify my number" }).click();
    await poll(() => widget(page).getByRole("status").textContent()).toBe("Waiting for call…");
    // Nothing is wider than the screen: no sideways scrolling on a phone.
    expect(await page.locator("html").evaluate((html) => html.scrollWidth)).toBeLessThanOrEqual(390);

    await widget(page).getByRole("button", { name: "Use WhatsApp instead" }).click();
    await poll(() => widget(page).getByRole("status").textContent()).toBe("We sent you a code by WhatsApp");
    // Asked for, not fallen back to: the widget does not claim the call failed.
    expect(await widget(page).locator(".hint").textContent()).not.toContain("could not reach");
    const message = page.locator(".message-whatsapp .message-text").first();
    await message.waitFor();
    const code = /\b(\d{6})\b/.exec((await message.textContent()) ?? "")?.[1] ?? "";
    await widget(page).getByLabel("6-digit code").fill(code);
    await widget(page).getByRole("button", { name: "Verify" }).click();
    await poll(() => widget(page).getByRole("status").textContent()).toBe("Your number is verified.");
    await saveScreenshot(page, "demo-phone-screen");
    expect(errors).toEqual([]);
  });

  it("finishes by itself when live status reports the number verified by someone else", async () => {
    const { page, errors } = await stack.open("/demo");
    await page.getByLabel("Mobile number").fill("+447400123458");
    await page.getByRole("button", { name: "Verify my number" }).click();
    await poll(() => widget(page).getByRole("status").textContent()).toBe("Waiting for call…");
    const callerId = (await page.locator(".calls .caller-id").first().textContent()) ?? "";
    // Taken out of the page and put back (as a framework may do): it picks its live status up again.
    await widget(page).evaluate((el) => {
      const parent = el.parentElement;
      el.remove();
      parent?.prepend(el);
    });
    // What an Android app does after reading its call log (or a backend told by it): report the caller ID.
    // Nothing is typed into the widget; the verified event reaches it over SSE.
    const response = await fetch(`${stack.url}/v1/verifications/${await verificationId(page)}/check`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ caller_id: callerId }),
    });
    expect(await response.json()).toMatchObject({ status: "verified" });
    await poll(() => widget(page).getByRole("status").textContent()).toBe("Your number is verified.");
    expect(await widget(page).getByLabel("Last 4 digits of the missed call").isHidden()).toBe(true);
    expect(errors).toEqual([]);
  });

  it("refuses a landline with the SMS fallback before anything is sent, and says so without a retry", async () => {
    const { page } = await stack.open("/demo");
    await page.getByRole("button", { name: /^Use Landline/ }).click();
    await page.getByRole("button", { name: "Verify my number" }).click();
    await poll(() => widget(page).getByRole("status").textContent()).toBe(
      "Numbers like this one cannot be verified here. Try a mobile number.",
    );
    expect(await widget(page).getByRole("button", { name: "Try again" }).isHidden()).toBe(true);
    expect(await page.locator(".calls .call").count()).toBe(0);
  });

  it("skips the flash call for a VoIP number and sends the code by email", async () => {
    const { page, errors } = await stack.open("/demo");
    await page.getByRole("button", { name: /^Use VoIP/ }).click();
    await page.getByLabel("If the call cannot reach the phone, send the code by").selectOption("email");
    await page.getByLabel("Email address").fill("voip.visitor@example.com");
    await page.getByRole("button", { name: "Verify my number" }).click();
    await poll(() => widget(page).getByRole("status").textContent()).toBe("We sent you a code by email");
    const mail = page.locator(".message-email .message-text").first();
    await mail.waitFor();
    const code = /\b(\d{6})\b/.exec((await mail.textContent()) ?? "")?.[1] ?? "";
    await widget(page).getByLabel("6-digit code").fill(code);
    await widget(page).getByRole("button", { name: "Verify" }).click();
    await poll(() => widget(page).getByRole("status").textContent()).toBe("Your number is verified.");
    expect(await page.locator(".calls .call").count()).toBe(0);
    expect(errors).toEqual([]);
  });
});
