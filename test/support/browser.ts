/**
 * Browser tests: a real server (SQLite in a temporary folder, the sandbox on, HTTP on port 0) and Debian's Chromium
 * driven by playwright-core. Without /usr/bin/chromium the suite is skipped with a notice, unless
 * FLASHVERIFY_REQUIRE_PEERS names `chromium` (CI), which makes it fail instead.
 *
 * @example
 * const chromium = chromiumAvailable();
 * describe.skipIf(!chromium)("the demo", () => {
 *   let stack: BrowserStack;
 *   beforeAll(async () => { stack = await startBrowserStack(); });
 *   afterAll(() => stack?.close());
 *   it("loads", async () => { const { page, errors } = await stack.open("/demo"); ... });
 * });
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { loadConfig } from "../../src/config.js";
import { type RunningServer, startServer } from "../../src/server.js";
import { peerAvailable } from "./peers.js";

export const CHROMIUM = "/usr/bin/chromium";

/** The flags Debian's Chromium needs to run headless as root in a container, without reaching the network. */
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"];

/**
 * Where the tests write their screenshots: with FLASHVERIFY_SCREENSHOTS=1, docs/screenshots (the README's, to
 * commit); otherwise dist/screenshots, so that a plain `npm test` does not leave committed images modified (their
 * caller IDs and clocks differ on every run).
 */
export const SCREENSHOT_DIR = join(
  import.meta.dirname,
  "..",
  "..",
  process.env.FLASHVERIFY_SCREENSHOTS ? "docs" : "dist",
  "screenshots",
);

export function chromiumAvailable(): boolean {
  return peerAvailable("chromium", () => existsSync(CHROMIUM));
}

export interface OpenedPage {
  page: Page;
  errors: string[];
}

export interface BrowserStack {
  server: RunningServer;
  browser: Browser;
  /** the server's base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  /**
   * A new page (its own context: cookies and storage not shared) opened at `path`, with the script errors and
   * console errors it has had since before it loaded.
   */
  open(path: string, viewport?: { width: number; height: number }): Promise<OpenedPage>;
  close(): Promise<void>;
}

/**
 * Starts the server and the browser. The sandbox's handsets, SMSC and mailbox listen on 127.0.1.1 (this suite's
 * loopback address) on ephemeral ports; `env` overrides any setting, e.g. a longer ring for a screenshot.
 */
export async function startBrowserStack(env: Record<string, string> = {}): Promise<BrowserStack> {
  const dir = mkdtempSync(join(tmpdir(), "flashverify-browser-"));
  const config = loadConfig({
    DATABASE_URL: `sqlite:${join(dir, "flashverify.db")}`,
    PORT: "0",
    SANDBOX: "on",
    SANDBOX_SIP_ADDRESS: "127.0.1.1",
    SANDBOX_SIP_PORT: "0",
    SANDBOX_SMPP_PORT: "0",
    SANDBOX_SMTP_PORT: "0",
    SIP_RING_TIME_MS: "400",
    SIP_T1_MS: "50",
    LOG_LEVEL: "silent",
    // Test files share two cores; shedding is tested on purpose elsewhere, never by accident here.
    OVERLOAD_MAX_LAG_MS: "0",
    ...env,
  });
  const server = await startServer(config);
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  } catch (error) {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    server,
    browser,
    url: server.url,
    async open(path, viewport = { width: 1280, height: 800 }) {
      const context = await browser.newContext({ viewport });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      page.on("console", (message) => {
        if (message.type() === "error") errors.push(message.text());
      });
      await page.goto(new URL(path, server.url).href);
      return { page, errors };
    },
    async close() {
      await browser.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Saves a screenshot of the page, or of the part `selector` finds, as <name>.png in SCREENSHOT_DIR. */
export async function saveScreenshot(page: Page, name: string, selector?: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  // The caret blinks and the ringing banner pulses: hidden and stopped, so a screenshot is the same twice.
  const options = { path, animations: "disabled" as const, caret: "hide" as const };
  if (selector) await page.locator(selector).screenshot(options);
  else await page.screenshot({ ...options, fullPage: true });
  return path;
}
