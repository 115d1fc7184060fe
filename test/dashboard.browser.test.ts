/**
 * The operator dashboard in real Chromium against a real server (see test/support/browser.ts): a flash call and a
 * busy number that falls back to SMS verify through the API, then the operator logs in with an API key and sees
 * both verifications with their cost, the statistics, and a new verification arriving live.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { axeViolations } from "./support/axe.js";
import { type BrowserStack, chromiumAvailable, saveScreenshot, startBrowserStack } from "./support/browser.js";

const KEY = "fv_dashboard_browser_test_key_0123";
const available = chromiumAvailable();

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read field by field and asserted, not trusted
type Json = Record<string, any>;

describe.skipIf(!available)("the dashboard in Chromium", () => {
  let stack: BrowserStack;
  beforeAll(async () => {
    stack = await startBrowserStack({ FLASHVERIFY_API_KEY: KEY, WORKFLOW: "flashcall,sms" });
  }, 30_000);
  afterAll(async () => {
    await stack?.close();
  });

  const call = async (method: string, path: string, body?: Json): Promise<Json> => {
    const response = await fetch(new URL(path, stack.url), {
      method,
      headers: { authorization: `Bearer ${KEY}`, ...(body ? { "content-type": "application/json" } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return (await response.json()) as Json;
  };
  const phone = (number: string) => call("GET", `/sandbox/phones/${encodeURIComponent(number)}`);
  const poll = async <T>(probe: () => Promise<T | undefined>): Promise<T> => {
    for (let i = 0; i < 200; i++) {
      const value = await probe();
      if (value !== undefined) return value;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error("condition not met within 10 s");
  };

  it("shows the verifications and their cost after login", async () => {
    // A flash call verified with the caller ID its handset saw.
    const flash = await call("POST", "/v1/verifications", { phone: "+447400150001" });
    const cli = await poll(async () => {
      const seen = (await phone("+447400150001")).calls[0];
      return seen?.result === "missed" ? (seen.from as string) : undefined;
    });
    expect((await call("POST", `/v1/verifications/${flash.id}/check`, { caller_id: cli })).status).toBe("verified");
    // A busy number: the flash call fails, the SMS carries the code.
    const busy = await call("POST", "/v1/verifications", { phone: "+447400150486" });
    const code = await poll(async () => (await phone("+447400150486")).messages[0]?.text.match(/\b(\d{6})\b/)?.[1]);
    expect((await call("POST", `/v1/verifications/${busy.id}/check`, { code })).status).toBe("verified");

    // The delivery measurement has both calls once its counts are written (every second).
    await poll(async () => {
      const networks = (await call("GET", "/v1/stats")).delivery.networks as { network: string; flashcall: Json }[];
      return networks.find((n) => n.network === "GB:7400")?.flashcall.placed === 2 ? true : undefined;
    });

    const { page, errors } = await stack.open("/dashboard");
    await page.getByLabel("API key").fill("fv_not_a_key_at_all_0000");
    await page.getByRole("button", { name: "Log in" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("UNAUTHORIZED");
    errors.length = 0; // the refused key's 401, which the browser reports as a console error
    await page.getByLabel("API key").fill(KEY);
    await page.getByRole("button", { name: "Log in" }).click();

    // The overview: two verified of two, list prices of a GB flash call that rang (0.0115) and a busy GB call, not
    // charged, with its SMS (0.04): 0.0515 against two SMS (0.08).
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    const tile = (label: string) => page.locator(".fv-tile", { hasText: label });
    await expect.poll(() => tile("Conversion").textContent()).toContain("100.0%");
    expect(await tile("Cost per verification").textContent()).toContain("total $0.0515");
    expect(await tile("Saving against SMS-only").textContent()).toContain("$0.0285");
    const byChannel = page.getByRole("table", { name: "Outcomes by channel" });
    expect(await byChannel.getByRole("row", { name: /flashcall/ }).textContent()).toContain("busy 1");
    const delivery = page.getByRole("table", { name: /^Delivery by network/ });
    // Two flash calls to GB:7400: the carrier said one delivered (the busy one failed), and it verified.
    expect(await delivery.getByRole("row", { name: /GB:7400/ }).textContent()).toMatch(/^GB:7400211/);
    expect(await page.locator(".fv-chart canvas").count()).toBe(3);
    await saveScreenshot(page, "dashboard");

    // The feed: both verifications with their attempts and cost.
    await page.getByRole("link", { name: "Verifications" }).click();
    const row = page.locator(`tr[data-verification="${busy.id}"]`);
    await row.waitFor();
    expect(await row.textContent()).toMatch(/verified.*flashcall: busy via sandbox.*sms: delivered.*\$0\.0400/);
    expect(await page.locator(`tr[data-verification="${flash.id}"]`).textContent()).toContain("$0.0115");

    // A verification started now appears at the top without a reload, from the live stream.
    const fresh = await call("POST", "/v1/verifications", { phone: "+447400150002" });
    await page.locator(`tr[data-verification="${fresh.id}"]`).waitFor();
    expect(await page.locator("tbody tr").first().getAttribute("data-verification")).toBe(fresh.id);
    await page.getByText("● Live").waitFor();
    await saveScreenshot(page, "dashboard-verifications");
    expect(errors).toEqual([]);
  }, 30_000);

  it("creates an API key shown once and revokes it", async () => {
    const { page, errors } = await stack.open("/dashboard#keys");
    await page.getByLabel("API key").fill(KEY);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Applications and keys" }).waitFor();
    await page.getByLabel("Label").fill("reporting");
    await page.getByRole("button", { name: "Create key" }).click();
    const secret = await page.locator("[data-secret]").textContent();
    expect(secret).toMatch(/^fv_/);
    expect(
      (await fetch(new URL("/v1/api-keys", stack.url), { headers: { authorization: `Bearer ${secret}` } })).status,
    ).toBe(200);
    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: "Revoke reporting" }).click();
    await page.getByRole("row", { name: /reporting.*revoked/ }).waitFor();
    expect(
      (await fetch(new URL("/v1/api-keys", stack.url), { headers: { authorization: `Bearer ${secret}` } })).status,
    ).toBe(401);
    expect(errors).toEqual([]);
  }, 30_000);

  it("adds a review number, marks its verifications, and removes it with who and when kept", async () => {
    const { page, errors } = await stack.open("/dashboard#review-numbers");
    await page.getByLabel("API key").fill(KEY);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Review numbers" }).waitFor();
    await page.getByLabel("Phone").fill("+447400150071");
    await page.getByLabel("Code").fill("246810");
    await page.getByLabel("Label").fill("App Store review");
    await page.getByRole("button", { name: "Add review number" }).click();
    const row = page.getByRole("row", { name: /\+447400150071/ });
    await row.waitFor();
    expect(await row.textContent()).toMatch(/246810.*App Store review.*by key_/);
    expect(await axeViolations(page)).toEqual([]);

    // A start to it sends nothing, verifies with the fixed code, and the feed marks it.
    const started = await call("POST", "/v1/verifications", { phone: "+447400150071", workflow: [{ channel: "sms" }] });
    expect((await call("POST", `/v1/verifications/${started.id}/check`, { code: "246810" })).status).toBe("verified");
    expect((await phone("+447400150071")).messages).toEqual([]);
    await page.getByRole("link", { name: "Verifications" }).click();
    const feedRow = page.locator(`tr[data-verification="${started.id}"]`);
    await feedRow.waitFor();
    expect(await feedRow.textContent()).toMatch(/verified.*review.*sms: review number/);

    await page.getByRole("link", { name: "Review numbers" }).click();
    await page.getByRole("button", { name: "Remove +447400150071" }).click();
    await page.getByText("No review numbers").waitFor();
    await page.getByLabel("Include removed ones").check();
    expect(await page.getByRole("row", { name: /\+447400150071/ }).textContent()).toMatch(/by key_.*by key_/);
    expect(errors).toEqual([]);
  }, 30_000);
});
