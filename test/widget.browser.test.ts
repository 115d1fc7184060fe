/**
 * <flashverify-widget> in Chromium outside the demo: loaded from one script tag on a page of its own, translated
 * through its strings; and a verification that expires, with "Try again" (see test/demo.browser.test.ts for the
 * demo's flows).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENGLISH } from "../sdk/src/widget/strings.js";
import { type BrowserStack, chromiumAvailable, saveScreenshot, startBrowserStack } from "./support/browser.js";
import { poll, verificationId, widget } from "./support/widget-page.js";

const available = chromiumAvailable();

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
    widget.strings = {
      waitingForCall: "En attente de l'appel…",
      callArrived: "Appel manqué reçu",
      verify: "Vérifier",
      verified: "Numéro vérifié.",
    };
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
    // Waiting for the call, or (with the stack's short ring) past it: in French either way.
    await poll(() => widget(page).getByRole("status").textContent()).toMatch(
      /^(En attente de l'appel…|Appel manqué reçu)$/,
    );

    const handset = await eventuallyCalled(stack.url, "+447400123459");
    await widget(page).getByLabel("Last 4 digits of the missed call").fill(handset.slice(-4));
    await widget(page).getByRole("button", { name: "Vérifier" }).click();
    await poll(() => widget(page).getByRole("status").textContent()).toBe("Numéro vérifié.");
    expect(await page.title()).toBe(`verified ${await verificationId(page)}`);
    expect(errors).toEqual([]);
  });
});

/**
 * The same page on a phone whose browser reads SMS codes (WebOTP). Headless Chromium has no SMS inbox, so the page
 * stands in for Chrome's part: `navigator.credentials.get({ otp })` answers with the code of the handset's SMS, and
 * only from a last line naming this page's host, as the origin-bound format requires.
 */
const WEB_OTP_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign up</title></head>
<body>
  <flashverify-widget></flashverify-widget>
  <script type="module">
    window.OTPCredential = function OTPCredential() {};
    const phone = "+447400120486";
    navigator.credentials.get = async (options) => {
      for (;;) {
        if (options.signal?.aborted) throw new DOMException("aborted", "AbortError");
        const handset = await (await fetch("/sandbox/phones/" + encodeURIComponent(phone))).json();
        const sms = handset.messages.find((m) => m.channel === "sms");
        const line = sms && /\\n@([^\\s]+) #(\\d+)$/.exec(sms.text);
        if (line && line[1] === location.hostname) return { type: "otp", id: "", code: line[2] };
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    await import("/sdk/flashverify-widget.js");
    const widget = document.querySelector("flashverify-widget");
    widget.addEventListener("flashverify-verified", (event) => { document.title = "verified " + event.detail.id; });
    widget.begin(() =>
      fetch("/demo/api/verifications", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ phone }),
      }).then((response) => response.json()),
    );
  </script>
</body></html>`;

describe.skipIf(!available)("the widget where the browser reads SMS codes (WebOTP)", () => {
  const key = "fv_webotp_test_key_0123456789abcdef";
  let stack: BrowserStack;
  beforeAll(async () => {
    stack = await startBrowserStack({ FLASHVERIFY_API_KEY: key });
  }, 30_000);
  afterAll(async () => {
    await stack?.close();
  });

  it("fills and checks the code of an SMS whose last line is bound to this host, with nothing typed", async () => {
    const host = new URL(stack.url).hostname;
    const saved = await fetch(`${stack.url}/v1/templates/sms/en`, {
      method: "PUT",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ body: "Your {app} code is {code}.", webotp_host: host }),
    });
    expect(saved.status, await saved.clone().text()).toBe(200);

    const page = await (await stack.browser.newContext()).newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.route(`${stack.url}/signup`, (route) => route.fulfill({ contentType: "text/html", body: WEB_OTP_PAGE }));
    await page.goto(`${stack.url}/signup`);
    // The number is busy: the flash call fails, the SMS goes out, and the browser hands its code to the widget.
    await poll(() => widget(page).getByRole("status").textContent()).toBe("Your number is verified.");
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

const CALL_STEP = new RegExp(`^(${ENGLISH.waitingForCall}|${ENGLISH.callArrived})$`);

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
    // Started: waiting for the call, or (with this short ring) already past it.
    await poll(() => widget(page).getByRole("status").textContent()).toMatch(CALL_STEP);
    const first = await verificationId(page);

    const retry = widget(page).getByRole("button", { name: "Try again" });
    await retry.waitFor({ timeout: 15_000 });
    expect(await widget(page).getByRole("status").textContent()).toBe(
      "The verification expired before a code was entered.",
    );
    expect(await retry.evaluate((el) => el === el.getRootNode().activeElement)).toBe(true);
    await saveScreenshot(page, "widget-expired", "flashverify-widget");

    await retry.click();
    // Started: waiting for the call, or (with this short ring) already past it.
    await poll(() => widget(page).getByRole("status").textContent()).toMatch(CALL_STEP);
    const second = await verificationId(page);
    expect(second).toMatch(/^ver_/);
    expect(second).not.toBe(first);
    expect(errors).toEqual([]);
    // The verification's 10 s lifetime is most of this test: its time limit leaves room for a loaded machine.
  }, 40_000);
});
