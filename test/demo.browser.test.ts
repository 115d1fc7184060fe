/**
 * The demo page in real Chromium against a real server (see test/support/browser.ts): a visitor signs up, the
 * virtual phone beside the form shows the missed call, and the visitor types the last digits of its caller ID into
 * the widget; a busy number falls back to SMS, and the code read off the phone's messages verifies it. The
 * screenshots these take are the README's.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrowserStack, chromiumAvailable, saveScreenshot, startBrowserStack } from "./support/browser.js";

const available = chromiumAvailable();
const API_KEY = "fv_browser_test_key_0123456789";

/** The widget's parts, found through its open shadow root as a person finds them: by role and label. */
const widget = (page: Page) => page.locator("flashverify-widget");

/**
 * `expect.poll` with room for a loaded machine: its default second is too short while the whole suite shares two
 * cores with Chromium. A flow that works answers at once; only a broken one waits the ten seconds.
 */
const poll = <T>(probe: () => Promise<T> | T) => expect.poll(probe, { timeout: 10_000, interval: 50 });

/** The id of the verification the widget shows (its `verification` property). */
const verificationId = (page: Page) =>
  widget(page).evaluate((el) => (el as unknown as { verification: { id: string } | null }).verification?.id);

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

    // The call ends unanswered: a missed call in the log, with the caller ID the widget asks about.
    await poll(() => page.locator(".calls .call-missed .caller-id").first().textContent()).toBe(callerId);
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

/**
 * A page of an integrator's site without a bundler: the widget from one script tag, in French, started through its
 * backend. Served on the server's origin (as behind a reverse proxy) by the browser's request interception.
 */
const SCRIPT_TAG_PAGE = `<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Inscription</title></head>
<body>
  <flashverify-widget></flashverify-widget>
  <script type="module">
    import "/sdk/flashverify-widget.js";
    const widget = document.querySelector("flashverify-widget");
    widget.strings = { waitingForCall: "En attente de l'appel…", verify: "Vérifier", verified: "Numéro vérifié." };
    widget.addEventListener("flashverify-verified", (event) => { document.title = "verified " + event.detail.id; });
    widget.begin(() =>
      fetch("/demo/api/verifications", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ phone: "+447400123459" }),
      }).then((response) => response.json()),
    );
  </script>
</body></html>`;

describe.skipIf(!available)("the widget from one script tag", () => {
  let stack: BrowserStack;
  beforeAll(async () => {
    stack = await startBrowserStack();
  }, 30_000);
  afterAll(async () => {
    await stack?.close();
  });

  it("registers itself, speaks the strings it is given, and tells the page when the number is verified", async () => {
    const page = await (await stack.browser.newContext()).newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.route(`${stack.url}/signup`, (route) =>
      route.fulfill({ contentType: "text/html", body: SCRIPT_TAG_PAGE }),
    );
    await page.goto(`${stack.url}/signup`);
    await poll(() => widget(page).getByRole("status").textContent()).toBe("En attente de l'appel…");

    const handset = await eventuallyCalled(stack.url, "+447400123459");
    await widget(page).getByLabel("Last 4 digits of the missed call").fill(handset.slice(-4));
    await widget(page).getByRole("button", { name: "Vérifier" }).click();
    await poll(() => widget(page).getByRole("status").textContent()).toBe("Numéro vérifié.");
    expect(await page.title()).toBe(`verified ${await verificationId(page)}`);
    expect(errors).toEqual([]);
  });
});

/** The caller ID of the first call the virtual handset of `phone` received, read from the sandbox's API. */
async function eventuallyCalled(baseUrl: string, phone: string): Promise<string> {
  for (const deadline = Date.now() + 5000; Date.now() < deadline; ) {
    const handset = (await (await fetch(`${baseUrl}/sandbox/phones/${encodeURIComponent(phone)}`)).json()) as {
      calls: { from: string }[];
    };
    const call = handset.calls.at(-1);
    if (call) return call.from;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no call reached ${phone}`);
}

describe.skipIf(!available)("the widget when a verification expires", () => {
  let stack: BrowserStack;
  beforeAll(async () => {
    // The shortest lifetime the server allows, so the widget's "expired" screen comes within the test.
    stack = await startBrowserStack({ VERIFICATION_TTL_SECONDS: "10", TIMER_INTERVAL_MS: "100" });
  }, 30_000);
  afterAll(async () => {
    await stack?.close();
  });

  it("says so, moves focus to 'Try again', and starts a new verification from it", async () => {
    const { page, errors } = await stack.open("/demo");
    await page.getByRole("button", { name: "Verify my number" }).click();
    await poll(() => widget(page).getByRole("status").textContent()).toBe("Waiting for call…");
    const first = await verificationId(page);

    const retry = widget(page).getByRole("button", { name: "Try again" });
    await retry.waitFor({ timeout: 15_000 });
    expect(await widget(page).getByRole("status").textContent()).toBe(
      "The verification expired before a code was entered.",
    );
    expect(await retry.evaluate((el) => el === el.getRootNode().activeElement)).toBe(true);
    await saveScreenshot(page, "widget-expired", "flashverify-widget");

    await retry.click();
    await poll(() => widget(page).getByRole("status").textContent()).toBe("Waiting for call…");
    const second = await verificationId(page);
    expect(second).toMatch(/^ver_/);
    expect(second).not.toBe(first);
    expect(errors).toEqual([]);
  });
});
