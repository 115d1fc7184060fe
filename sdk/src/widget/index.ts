/**
 * The drop-in verification widget: `defineFlashverifyWidget()` registers <flashverify-widget> (once), then
 * `widget.begin(() => yourBackend.startVerification())`. See the README's "Client SDK" section.
 *
 * @example
 * defineFlashverifyWidget();
 * const widget = document.querySelector("flashverify-widget")!;
 * widget.addEventListener("flashverify-verified", () => location.assign("/welcome"));
 * await widget.begin(() => fetch("/signup/phone", { method: "POST", body }).then((r) => r.json()));
 */
import { type EndedDetail, FlashverifyWidget, type VerifiedDetail } from "./element.js";

export type { EndedDetail, StartedVerification, StartVerification, VerifiedDetail } from "./element.js";
export { FlashverifyWidget } from "./element.js";
export { type NextAction, type Screen, screenOf } from "./flow.js";
export { ENGLISH, type WidgetStrings } from "./strings.js";

/** Registers the element under `tagName` (default `flashverify-widget`); a second call does nothing. */
export function defineFlashverifyWidget(tagName = "flashverify-widget"): void {
  if (!customElements.get(tagName)) customElements.define(tagName, class extends FlashverifyWidget {});
}

declare global {
  interface HTMLElementTagNameMap {
    "flashverify-widget": FlashverifyWidget;
  }
  interface HTMLElementEventMap {
    "flashverify-verified": CustomEvent<VerifiedDetail>;
    "flashverify-ended": CustomEvent<EndedDetail>;
  }
}
