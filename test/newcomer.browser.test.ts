/**
 * What a newcomer meets in Chromium, with the fraud controls' production defaults: the demo walked through every
 * sandbox test number twice in a row from one address, on a desktop and a phone-sized screen, with no refusal (the
 * test numbers are exempt from the start limits, risk score and pumping detector while the sandbox is on); a real
 * number refused, with its code and reason on the page; the dashboard on a phone; and 0 axe-core violations on the
 * demo, the dashboard and the API reference.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENGLISH } from "../sdk/src/widget/strings.js";
import { TEST_NUMBERS } from "../src/sandbox/test-numbers.js";
import { axeViolations } from "./support/axe.js";
import { type BrowserStack, chromiumAvailable, saveScreenshot, startBrowserStack } from "./support/browser.js";
import { poll, widget } from "./support/widget-page.js";

const available = chromiumAvailable();
const KEY = "fv_newcomer_browser_key_0123456789";
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

/** What the widget says once a start was accepted: the call under way or over, or a message sent. */
const ACCEPTED = [
  ENGLISH.waitingForCall,
  ENGLISH.callArrived,
  ...(["sms", "whatsapp", "email"] as const).map((c) => ENGLISH.messageSent(c)),
];

describe.skipIf(!available)("a newcomer in Chromium", () => {
  let stack: BrowserStack;
  beforeAll(async () => {
    // This suite's own loopback address; every fraud default as shipped (no test overrides).
    stack = await startBrowserStack({
      HOST: "127.0.0.121",
      SANDBOX_SIP_ADDRESS: "127.0.0.121",
      SIP_LOCAL_ADDRESS: "127.0.0.121",
      FLASHVERIFY_API_KEY: KEY,
    });
  }, 30_000);
  afterAll(async () => {
    await stack?.close();
  });

  for (const [size, viewport] of [
    ["desktop", DESKTOP],
    ["phone", PHONE],
  ] as const) {
    it(`walks the demo through every test number twice in a row, on a ${size} screen, with no refusal`, async () => {
      const { page, errors } = await stack.open("/demo", viewport);
      for (let round = 1; round <= 2; round++) {
        for (const number of TEST_NUMBERS) {
          await page.getByRole("button", { name: `Use ${number.name}: ${number.phone}` }).click();
          // The landline takes no call and no SMS: its code goes by email, the one channel it can have.
          const fallback = number.name === "Landline" ? "email" : "sms";
          await page.getByLabel("If the call cannot reach the phone, send the code by").selectOption(fallback);
          await page.getByRole("button", { name: "Verify my number" }).click();
          const status = widget(page).getByRole("status");
          await poll(async () => ACCEPTED.includes((await status.textContent()) ?? "")).toBe(true);
          expect(await page.locator(".refusal").count(), `${number.name}, round ${round}`).toBe(0);
          // The virtual phone shows this verification's calls and messages only, each after its start.
          await poll(() => page.locator(".phone-number").textContent()).toBe(number.phone);
          if (round === 2 && number.name === "Rings") {
            await poll(() => page.locator(".calls .call").count()).toBe(1);
            const earlier = page.getByRole("button", { name: /^Show \d+ from earlier verifications$/ });
            await earlier.waitFor();
            await earlier.click();
            await poll(() => page.locator(".calls .call").count()).toBeGreaterThan(1);
            await page.getByRole("button", { name: "Show this verification's only" }).click();
          }
        }
      }
      if (size === "phone") {
        // The virtual phone comes right after the form, before the events: the caller ID is one scroll away.
        const form = await page.locator(".signup-card").boundingBox();
        const phone = await page.locator(".phone").boundingBox();
        const events = await page.locator(".events-card").boundingBox();
        expect(form && phone && events).toBeTruthy();
        if (form && phone && events) {
          expect(phone.y).toBeGreaterThan(form.y);
          expect(events.y).toBeGreaterThan(phone.y);
        }
        expect(await page.locator("html").evaluate((html) => html.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
      }
      expect(errors).toEqual([]);
      await page.context().close();
    }, 120_000);
  }

  it("shows a refused real number's code and reason in the demo, while the test numbers still pass", async () => {
    const real = "+447400555017";
    // Five starts to one real number: the destination limit's default (5 per 10 minutes) is spent.
    for (let i = 0; i < 5; i++) {
      const response = await fetch(`${stack.url}/demo/api/verifications`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ phone: real }),
      });
      expect(response.status).toBe(201);
    }
    const { page, errors } = await stack.open("/demo", PHONE);
    await page.getByLabel("Mobile number").fill(real);
    await page.getByRole("button", { name: "Verify my number" }).click();
    const refusal = page.getByRole("region", { name: /^Refused/ });
    await poll(() => refusal.locator("h3").textContent()).toBe("Refused: RATE_LIMITED (429)");
    expect(await refusal.locator("dl").textContent()).toContain("limitdestination");
    expect(await refusal.locator("p").textContent()).not.toBe("");
    await poll(() => widget(page).getByRole("status").textContent()).toMatch(/^Too many attempts/);
    // "What the server did" shows the refused start: its code, reason and details.
    const panel = page.getByRole("region", { name: "What the server did" });
    await poll(() => panel.getByRole("list", { name: "Events" }).textContent()).toContain(
      "start refused: RATE_LIMITED (429)",
    );
    expect(await panel.textContent()).toContain("limit: destination");
    await saveScreenshot(page, "demo-refused", ".signup-card");
    expect(await axeViolations(page)).toEqual([]);

    // The test numbers are not held to the real number's limits.
    await page.getByRole("button", { name: /^Use Rings/ }).click();
    await page.getByRole("button", { name: "Verify my number" }).click();
    await poll(async () => ACCEPTED.includes((await widget(page).getByRole("status").textContent()) ?? "")).toBe(true);
    expect(await page.locator(".refusal").count()).toBe(0);
    await poll(async () => (await panel.textContent())?.includes("start refused")).toBe(false);
    // Refused starts in the browser's console are the 429 itself, which the page reports as it should.
    expect(errors.filter((e) => !e.includes("429"))).toEqual([]);
    await page.context().close();
  }, 60_000);

  it("has 0 axe violations on the demo, with a verification under way", async () => {
    const { page, errors } = await stack.open("/demo");
    await page.getByRole("button", { name: "Verify my number" }).click();
    await poll(async () => ACCEPTED.includes((await widget(page).getByRole("status").textContent()) ?? "")).toBe(true);
    await page.locator(".events li").first().waitFor();
    expect(await axeViolations(page)).toEqual([]);
    expect(errors).toEqual([]);
    await page.context().close();
  }, 60_000);

  it("has 0 axe violations on the dashboard, and on a phone its sections fit one line and Status shows", async () => {
    const started = await fetch(`${stack.url}/v1/verifications`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ phone: "+447400555018" }),
    });
    expect(started.status).toBe(201);
    const { page, errors } = await stack.open("/dashboard", PHONE);
    expect(await axeViolations(page)).toEqual([]);
    await page.getByLabel("API key").fill(KEY);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("navigation", { name: "Dashboard sections" }).waitFor();
    expect(await axeViolations(page)).toEqual([]);
    const nav = await page.getByRole("navigation", { name: "Dashboard sections" }).boundingBox();
    expect(nav?.height).toBeLessThan(60);
    await page.getByRole("link", { name: "Verifications" }).click();
    const status = page.locator(".fv-feed tbody tr[data-verification] td[data-label='Status']").first();
    await status.waitFor();
    const box = await status.boundingBox();
    expect(box && box.x >= 0 && box.x + box.width <= PHONE.width).toBe(true);
    expect(await axeViolations(page)).toEqual([]);
    await saveScreenshot(page, "dashboard-phone");
    expect(errors).toEqual([]);
    await page.context().close();
  }, 60_000);

  it("serves an API reference with examples from the schemas and 0 axe violations", async () => {
    const { page, errors } = await stack.open("/docs");
    await page.getByRole("heading", { name: "POST /v1/verifications", exact: true }).waitFor();
    const start = page.locator("#post-v1-verifications");
    expect(await start.getByRole("table", { name: "Request body" }).textContent()).toContain("client.ip");
    const example = (await start.locator("pre").first().textContent()) ?? "";
    expect(example).toContain(`curl -X POST '${stack.url}/v1/verifications'`);
    expect(example).toContain('"phone":"+447400123456"');
    const body = (await page.locator("main").textContent()) ?? "";
    expect(body).not.toContain("9007199254740991");
    expect(body).not.toContain('"KL"');
    expect(await axeViolations(page)).toEqual([]);
    await saveScreenshot(page, "api-reference", "#post-v1-verifications");
    expect(errors).toEqual([]);
    await page.context().close();
  }, 60_000);
});
