/** Reading <flashverify-widget> in a browser test as a person does: by role and label, through its shadow root. */
import type { Page } from "playwright-core";
import { expect } from "vitest";

/** The widget's parts, found through its open shadow root as a person finds them: by role and label. */
export const widget = (page: Page) => page.locator("flashverify-widget");

/**
 * `expect.poll` with room for a loaded machine: its default second is too short while the whole suite shares two
 * cores with Chromium. A flow that works answers at once; only a broken one waits the ten seconds.
 */
export const poll = <T>(probe: () => Promise<T> | T) => expect.poll(probe, { timeout: 10_000, interval: 50 });

/** The id of the verification the widget shows (its `verification` property). */
export const verificationId = (page: Page) =>
  widget(page).evaluate((el) => (el as unknown as { verification: { id: string } | null }).verification?.id);
