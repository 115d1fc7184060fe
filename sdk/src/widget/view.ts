/**
 * The widget's DOM, built once in its shadow root and then only updated (so typing and focus survive live
 * updates): a status line announced by screen readers, a hint, the caller-ID pattern (or, for a reverse flash call,
 * the number to call as a `tel:` link), the countdown, the code form, an error line, and the "Use SMS instead", "The call came after all" and "Try again" buttons, in that focus
 * order. Themable with CSS custom properties (--fv-accent, --fv-danger, --fv-ok, --fv-muted, --fv-border,
 * --fv-surface, --fv-radius) and `::part()` (status, hint, pattern, dial, countdown, label, input, submit,
 * error, next, late, retry).
 */

export interface WidgetView {
  container: HTMLElement;
  status: HTMLElement;
  hint: HTMLElement;
  pattern: HTMLElement;
  /** the reverse flash call's number: tapped on a phone, it dials */
  dial: HTMLAnchorElement;
  countdown: HTMLElement;
  form: HTMLFormElement;
  label: HTMLLabelElement;
  input: HTMLInputElement;
  submit: HTMLButtonElement;
  error: HTMLElement;
  next: HTMLButtonElement;
  /** tells the server the flash call came after the step moved on (a delivery report) */
  late: HTMLButtonElement;
  retry: HTMLButtonElement;
}

const STYLE = `
:host { display: block; max-width: 26rem; color: inherit; font: inherit; }
:host([hidden]) { display: none; }
.fv { display: grid; gap: 0.75rem; padding: 1rem; border: 1px solid var(--fv-border, #c9d1db);
  border-radius: var(--fv-radius, 12px); background: var(--fv-surface, transparent); }
[hidden] { display: none !important; }
.status { margin: 0; font-size: 1.15rem; font-weight: 600; outline: none; }
.fv[data-screen="verified"] .status { color: var(--fv-ok, #1b7f3b); }
.fv[data-screen="verified"] .status::before { content: "✓ "; }
.fv[data-screen="ended"] .status { color: var(--fv-danger, #b3261e); }
.hint, .countdown { margin: 0; color: var(--fv-muted, #5f6b7a); }
.pattern { margin: 0; font: 600 1.35rem/1.2 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  letter-spacing: 0.04em; overflow-wrap: anywhere; }
.countdown { font-variant-numeric: tabular-nums; }
.dial { justify-self: start; font: 600 1.35rem/1.2 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  color: var(--fv-accent, #0b6bcb); min-height: 44px; display: inline-flex; align-items: center; }
form { display: grid; gap: 0.4rem; }
label { font-weight: 600; }
.row { display: flex; gap: 0.5rem; flex-wrap: wrap; }
input { flex: 1 1 8rem; min-width: 0; min-height: 44px; padding: 0.4rem 0.6rem; font: 600 1.4rem/1 ui-monospace,
  SFMono-Regular, Menlo, Consolas, monospace; letter-spacing: 0.3em; border: 1px solid var(--fv-border, #c9d1db);
  border-radius: 8px; background: transparent; color: inherit; }
input[aria-invalid="true"] { border-color: var(--fv-danger, #b3261e); }
button { min-height: 44px; padding: 0.4rem 1rem; font: inherit; font-weight: 600; border-radius: 8px;
  cursor: pointer; border: 1px solid var(--fv-accent, #0b6bcb); }
button[type="submit"], .retry { background: var(--fv-accent, #0b6bcb); color: #fff; }
button.link { justify-self: start; background: transparent; color: var(--fv-accent, #0b6bcb); border-color: transparent;
  padding-inline: 0; text-decoration: underline; }
button:disabled { opacity: 0.6; cursor: progress; }
:focus-visible { outline: 3px solid var(--fv-accent, #0b6bcb); outline-offset: 2px; }
.error { margin: 0; color: var(--fv-danger, #b3261e); font-weight: 600; }
.error:empty { display: none; }
`;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string>,
  parent: Node,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  parent.appendChild(node);
  return node;
}

export function createView(root: ShadowRoot): WidgetView {
  el("style", {}, root).textContent = STYLE;
  const container = el("div", { class: "fv", part: "container" }, root);
  // Announced politely as it changes ("Waiting for call...", "We sent you a code by SMS", "verified").
  const status = el(
    "p",
    { class: "status", part: "status", role: "status", "aria-live": "polite", tabindex: "-1" },
    container,
  );
  const hint = el("p", { class: "hint", part: "hint", id: "fv-hint" }, container);
  const pattern = el("p", { class: "pattern", part: "pattern", id: "fv-pattern" }, container);
  const dial = el("a", { class: "dial", part: "dial" }, container);
  // Not live: a countdown read out every second would drown everything else.
  const countdown = el("p", { class: "countdown", part: "countdown", id: "fv-countdown" }, container);
  const form = el("form", { novalidate: "" }, container);
  const label = el("label", { for: "fv-code", part: "label" }, form);
  const row = el("div", { class: "row" }, form);
  const input = el(
    "input",
    {
      id: "fv-code",
      part: "input",
      type: "text",
      inputmode: "numeric",
      autocomplete: "one-time-code",
      pattern: "[0-9]*",
      spellcheck: "false",
      "aria-describedby": "fv-hint fv-pattern fv-countdown fv-error",
    },
    row,
  );
  const submit = el("button", { type: "submit", part: "submit" }, row);
  const error = el("p", { class: "error", part: "error", id: "fv-error", role: "alert" }, container);
  const next = el("button", { type: "button", class: "link", part: "next" }, container);
  const late = el("button", { type: "button", class: "link", part: "late" }, container);
  const retry = el("button", { type: "button", class: "retry", part: "retry" }, container);
  return { container, status, hint, pattern, dial, countdown, form, label, input, submit, error, next, late, retry };
}
