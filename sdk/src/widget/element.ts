/**
 * <flashverify-widget>: the verification flow of the flash-call docs as a framework-free custom element, on the
 * SDK's client with the verification's client token. "Waiting for call..." with the masked caller-ID pattern and
 * the code's countdown; the last digits typed by hand (iOS and the web cannot read the call log); done by itself
 * when live status (SSE) reports the number verified (an Android app or the backend checked it); "Use SMS instead"
 * and a code field; wrong-code, expired and blocked answers in words, with "Try again" where it can help. A reverse
 * flash call shows "Call this number to verify" with the number as a `tel:` link and its countdown, and completes by
 * itself when the call arrives.
 */
import {
  createClient,
  type FlashverifyClient,
  FlashverifyError,
  type LiveEvent,
  type Verification,
} from "../client.js";
import { formatRemaining, normaliseCode, problemOf, type Screen, screenOf } from "./flow.js";
import { ENGLISH, type WidgetStrings } from "./strings.js";
import { createView, type WidgetView } from "./view.js";
import { receiveSmsCode, webOtpSupported } from "./web-otp.js";

/** What the integrator's backend returns for a new verification (the start answer, or at least these fields). */
export interface StartedVerification {
  id: string;
  client_token: string;
  /** the verification as the start answered it, drawn before live status connects */
  verification?: Verification;
}

/** Asks the integrator's backend to start a verification (the API key stays there). */
export type StartVerification = () => Promise<StartedVerification>;

export interface VerifiedDetail {
  id: string;
}

export interface EndedDetail {
  id: string;
  status: Verification["status"];
  reason: string | null;
}

// Outside a browser (server-side rendering, Node) the module still loads; only defining the element needs a DOM.
const Base = (globalThis.HTMLElement ?? class {}) as typeof HTMLElement;

export class FlashverifyWidget extends Base {
  static readonly observedAttributes = ["base-url"];

  #strings: WidgetStrings = ENGLISH;
  #view: WidgetView | null = null;
  #start: StartVerification | null = null;
  #client: FlashverifyClient | null = null;
  #id: string | null = null;
  #verification: Verification | null = null;
  #screen: Screen | null = null;
  /** the attempt the code field belongs to: a new one clears the field and the error */
  #attemptKey = "";
  #error = "";
  #busy = false;
  #focusNext = false;
  #subscription: { close(): void } | null = null;
  #ticker: ReturnType<typeof setInterval> | undefined;
  #expiredSeen = false;
  /** a number per run, so answers of an earlier run that arrive late are ignored */
  #run = 0;
  /** the browser's wait for an SMS code (WebOTP), while an SMS step is on screen */
  #smsCode: AbortController | null = null;
  #refreshing = false;
  #refreshAgain = false;

  /** The flashverify server; default this page's origin. Attribute `base-url`. */
  get baseUrl(): string {
    return this.getAttribute("base-url") ?? globalThis.location.origin;
  }
  set baseUrl(value: string) {
    this.setAttribute("base-url", value);
  }

  /** The texts, English by default; set a partial object to translate some or all of them. */
  get strings(): WidgetStrings {
    return this.#strings;
  }
  set strings(value: Partial<WidgetStrings>) {
    this.#strings = { ...ENGLISH, ...value };
    this.#render();
  }

  /** The verification as last reported (null before `begin`). */
  get verification(): Verification | null {
    return this.#verification;
  }

  connectedCallback(): void {
    if (!this.#view) {
      const view = createView(this.attachShadow({ mode: "open" }));
      view.form.addEventListener("submit", (event) => {
        event.preventDefault();
        void this.#check();
      });
      view.next.addEventListener("click", () => void this.#next());
      view.late.addEventListener("click", () => void this.#reportLate());
      view.retry.addEventListener("click", () => {
        if (this.#start) void this.begin(this.#start);
      });
      view.input.addEventListener("input", () => {
        if (this.#error) this.#setError("");
      });
      this.#view = view;
    }
    this.#render();
    this.#listen();
  }

  /** Taken out of the document: the stream and the countdown stop until it is put back. */
  disconnectedCallback(): void {
    this.#stop();
  }

  /**
   * Starts a verification with `start` (your backend's call) and shows it through to the end. "Try again" calls
   * `start` again. Resolves once the verification has started (or failed to).
   */
  async begin(start: StartVerification): Promise<void> {
    this.#stop();
    const run = ++this.#run;
    this.#start = start;
    this.#verification = null;
    this.#screen = { kind: "starting" };
    this.#attemptKey = "";
    this.#expiredSeen = false;
    this.#focusNext = true;
    this.#setError("");
    this.#render();
    let started: StartedVerification;
    try {
      started = await start();
    } catch (error) {
      if (run !== this.#run) return;
      const problem = problemOf(error, this.#strings);
      this.#screen = { kind: "ended", message: problem.message, retry: problem.retry };
      this.#render();
      return;
    }
    if (run !== this.#run) return;
    this.#id = started.id;
    this.#client = createClient({ baseUrl: this.baseUrl, token: started.client_token });
    if (started.verification) this.#update(started.verification);
    this.#listen();
  }

  /**
   * Live status and the countdown, while the verification is pending and the element is in a document. Called again
   * when the element is put back into one: the stream opens with the current state, so nothing in between is lost.
   */
  #listen(): void {
    const client = this.#client;
    const id = this.#id;
    const run = this.#run;
    if (!client || !id || this.#subscription || !this.isConnected) return;
    if (this.#verification && this.#verification.status !== "pending") return;
    this.#subscription = client.subscribe(
      id,
      (event) => this.#onEvent(run, event),
      () => {
        // The client reconnects by itself; a refused stream (e.g. the token expired) leaves the read at expiry.
      },
    );
    this.#ticker = setInterval(() => this.#tick(), 1000);
  }

  #onEvent(run: number, event: LiveEvent): void {
    if (run !== this.#run) return;
    if (event.type === "state") this.#update(event.data as unknown as Verification);
    else this.#refresh();
  }

  /** Reads the verification again; calls that arrive while one is under way are folded into one more read. */
  #refresh(): void {
    if (this.#refreshing) {
      this.#refreshAgain = true;
      return;
    }
    const client = this.#client;
    const id = this.#id;
    const run = this.#run;
    if (!client || !id) return;
    this.#refreshing = true;
    void (async () => {
      try {
        do {
          this.#refreshAgain = false;
          const v = await client.get(id);
          if (run !== this.#run) return;
          this.#update(v);
        } while (this.#refreshAgain);
      } catch {
        // Live status will bring the next change; a failed read changes nothing on screen.
      } finally {
        this.#refreshing = false;
      }
    })();
  }

  #update(v: Verification): void {
    const wasFinal = this.#verification !== null && this.#verification.status !== "pending";
    this.#verification = v;
    this.#screen = screenOf(v, this.#strings);
    const key = `${v.status}:${v.attempts?.length ?? 0}:${v.channel}`;
    if (key !== this.#attemptKey) {
      this.#attemptKey = key;
      this.#expiredSeen = false;
      if (this.#view) this.#view.input.value = "";
      this.#setError("");
      // Move focus with the flow only when the person is in the widget (or just started it).
      if (this.#focusNext || this.#hasFocus()) this.#focusNext = true;
      this.#smsCode?.abort();
      this.#smsCode = null;
      if (v.status === "pending" && this.#screen.kind === "message" && this.#screen.channel === "sms") {
        this.#awaitSmsCode();
      }
    }
    this.#render();
    if (v.status !== "pending" && !wasFinal) {
      this.#stop();
      if (v.status === "verified") this.#emit<VerifiedDetail>("flashverify-verified", { id: v.id });
      this.#emit<EndedDetail>("flashverify-ended", { id: v.id, status: v.status, reason: v.reason });
    }
  }

  async #check(): Promise<void> {
    const view = this.#view;
    const client = this.#client;
    const screen = this.#screen;
    if (!view || !client || !this.#id || this.#busy) return;
    if (screen?.kind !== "flashcall" && screen?.kind !== "message") return;
    const code = normaliseCode(view.input.value, screen.codeLength);
    if (code === null) {
      this.#setError(this.#strings.invalidFormat(screen.codeLength));
      view.input.focus();
      return;
    }
    const run = this.#run;
    this.#setBusy(true);
    try {
      const result = await client.check(this.#id, { code });
      if (run !== this.#run) return;
      if (result.status === "pending") {
        view.input.select();
        this.#setError(this.#strings.wrongCode(result.attempts_remaining));
      } else {
        this.#focusNext = true;
        this.#refresh();
      }
    } catch (error) {
      if (run !== this.#run) return;
      if (error instanceof FlashverifyError && error.status === 409) this.#refresh();
      else this.#setError(problemOf(error, this.#strings, screen.codeLength).message);
    } finally {
      this.#setBusy(false);
    }
  }

  async #next(): Promise<void> {
    const client = this.#client;
    if (!client || !this.#id || this.#busy) return;
    const run = this.#run;
    this.#setBusy(true);
    // The call rang on the server's side, yet the person asks for another channel: it never reached the phone as
    // far as they can tell, which only the phone can say (a silently dropped call looks delivered to the server).
    if (this.#screen?.kind === "flashcall" && this.#screen.called) {
      void client.report(this.#id, { outcome: "not_received", source: "manual" }).catch(() => undefined);
    }
    try {
      const v = await client.next(this.#id);
      if (run !== this.#run) return;
      this.#focusNext = true;
      this.#update(v);
    } catch (error) {
      if (run === this.#run) this.#setError(problemOf(error, this.#strings).message);
    } finally {
      this.#setBusy(false);
    }
  }

  /** The flash call the person gave up on came after all: a late delivery, measured like the others. */
  async #reportLate(): Promise<void> {
    const client = this.#client;
    if (!client || !this.#id || this.#view?.late.hidden) return;
    if (this.#view) this.#view.late.hidden = true;
    await client.report(this.#id, { outcome: "late", source: "manual" }).catch(() => undefined);
    this.#refresh();
  }

  #tick(): void {
    const screen = this.#screen;
    const timed = screen?.kind === "flashcall" || screen?.kind === "message" || screen?.kind === "reverse";
    if (!this.#view || !timed || screen.expiresAt === null) {
      return;
    }
    this.#renderCountdown(screen.expiresAt, screen.kind === "reverse");
    // The server moves on at the deadline and live status says so; one read covers a stream that went quiet.
    if (Date.now() > screen.expiresAt + 1000 && !this.#expiredSeen) {
      this.#expiredSeen = true;
      this.#refresh();
    }
  }

  #render(): void {
    const view = this.#view;
    const screen = this.#screen;
    if (!view) return;
    const s = this.#strings;
    view.container.dataset.screen = screen?.kind ?? "idle";
    const entering = screen?.kind === "flashcall" || screen?.kind === "message";
    let status = "";
    let hint = "";
    switch (screen?.kind) {
      case "starting":
        status = s.starting;
        break;
      case "flashcall":
        status = screen.called ? s.callArrived : s.waitingForCall;
        hint = (screen.called ? s.callArrivedHint : s.callHint)(screen.pattern, screen.codeLength);
        view.label.textContent = s.callCodeLabel(screen.codeLength);
        break;
      case "reverse":
        status = s.callToVerify;
        hint = s.callToVerifyHint;
        break;
      case "message":
        status = s.messageSent(screen.channel);
        hint = `${screen.fellBack ? `${s.fellBack(screen.channel)} ` : ""}${s.messageHint(screen.channel, screen.codeLength)}`;
        view.label.textContent = s.messageCodeLabel(screen.codeLength);
        break;
      case "verified":
        status = s.verified;
        break;
      case "ended":
        status = screen.message;
        break;
    }
    setText(view.status, status);
    setText(view.hint, hint);
    view.hint.hidden = hint === "";
    view.pattern.hidden = screen?.kind !== "flashcall";
    // Emptied rather than only hidden: aria-describedby reads hidden text too.
    setText(view.pattern, screen?.kind === "flashcall" ? screen.pattern : "");
    view.dial.hidden = screen?.kind !== "reverse";
    if (screen?.kind === "reverse" && view.dial.getAttribute("href") !== `tel:${screen.dial}`) {
      view.dial.setAttribute("href", `tel:${screen.dial}`);
      setText(view.dial, screen.dial);
    }
    view.form.hidden = !entering;
    view.submit.textContent = this.#busy ? s.checking : s.verify;
    if (entering) {
      view.input.maxLength = screen.codeLength + 2;
      view.input.setAttribute("aria-invalid", this.#error ? "true" : "false");
      if (screen.expiresAt !== null) this.#renderCountdown(screen.expiresAt);
    }
    const reverse = screen?.kind === "reverse";
    if (reverse && screen.expiresAt !== null) this.#renderCountdown(screen.expiresAt, true);
    view.countdown.hidden = !(entering || reverse) || screen.expiresAt === null;
    const next = entering || reverse ? screen.next : null;
    view.next.hidden = next === null;
    if (next) view.next.textContent = next.kind === "resend" ? s.sendNewCode : s.useInstead(next.channel);
    view.late.hidden = !(screen?.kind === "message" && screen.callMayComeLate);
    view.late.textContent = s.callCameLate;
    view.retry.hidden = !(screen?.kind === "ended" && screen.retry);
    view.retry.textContent = s.tryAgain;
    setText(view.error, this.#error);
    if (this.#focusNext && screen?.kind !== "starting") {
      this.#focusNext = false;
      if (entering) view.input.focus();
      else if (reverse) view.dial.focus();
      else if (screen?.kind === "ended" && screen.retry) view.retry.focus();
      else view.status.focus();
    }
  }

  #renderCountdown(expiresAt: number, call = false): void {
    if (!this.#view) return;
    const left = formatRemaining(expiresAt, Date.now());
    const s = this.#strings;
    const text = expiresAt - Date.now() > 0 ? (call ? s.callWithin : s.expiresIn)(left) : s.codeExpired;
    setText(this.#view.countdown, text);
  }

  #setError(message: string): void {
    this.#error = message;
    if (!this.#view) return;
    setText(this.#view.error, message);
    this.#view.input.setAttribute("aria-invalid", message ? "true" : "false");
  }

  #setBusy(busy: boolean): void {
    this.#busy = busy;
    if (!this.#view) return;
    this.#view.submit.disabled = busy;
    this.#view.next.disabled = busy;
    this.#view.submit.textContent = busy ? this.#strings.checking : this.#strings.verify;
  }

  #hasFocus(): boolean {
    return this.shadowRoot?.activeElement != null;
  }

  #emit<T>(type: string, detail: T): void {
    this.dispatchEvent(new CustomEvent<T>(type, { detail, bubbles: true, composed: true }));
  }

  /** Fills and checks the code where the browser reads it from the SMS (WebOTP); elsewhere returns at once. */
  #awaitSmsCode(): void {
    if (!webOtpSupported()) return;
    const run = this.#run;
    const controller = new AbortController();
    this.#smsCode = controller;
    void receiveSmsCode(controller.signal).then((code) => {
      if (!code || controller.signal.aborted || run !== this.#run || !this.#view) return;
      this.#view.input.value = code;
      void this.#check();
    });
  }

  #stop(): void {
    this.#smsCode?.abort();
    this.#smsCode = null;
    this.#subscription?.close();
    this.#subscription = null;
    clearInterval(this.#ticker);
    this.#ticker = undefined;
  }
}

/** Only real changes touch the DOM, so a screen reader does not re-announce an unchanged status. */
function setText(node: HTMLElement, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}
