/**
 * The sign-up form of an imaginary app: a phone number, the fallback channel, an email address for the email
 * fallback, and the drop-in <flashverify-widget> doing the verification. The app's "backend" is the server's demo
 * route (src/api/routes/demo.ts).
 */
import { useEffect, useRef, useState } from "preact/hooks";
import {
  defineFlashverifyWidget,
  type FlashverifyWidget,
  type StartedVerification,
} from "../../sdk/src/widget/index.js";
import { type Fallback, StartRefused, startVerification } from "./api.js";
import { RefusalNote } from "./refusal-note.js";

defineFlashverifyWidget();

export interface SignupFormProps {
  phone: string;
  onPhoneInput(phone: string): void;
  /** a verification started: its id and client token, and the phone (E.164) and mailbox to show */
  onStarted(started: StartedVerification, phone: string, email: string | null): void;
  /** a start was refused (its answer), or a new start cleared the last refusal (null) */
  onRefused?(refusal: StartRefused | null): void;
}

export function SignupForm({ phone, onPhoneInput, onStarted, onRefused }: SignupFormProps) {
  const [fallback, setFallback] = useState<Fallback>("sms");
  const [email, setEmail] = useState("you@example.com");
  const [verified, setVerified] = useState<string | null>(null);
  const [started, setStarted] = useState(false);
  const [refusal, setRefusal] = useState<StartRefused | null>(null);
  const widget = useRef<FlashverifyWidget>(null);

  useEffect(() => {
    const element = widget.current;
    if (!element) return;
    const onVerified = () => setVerified(element.verification?.phone ?? null);
    element.addEventListener("flashverify-verified", onVerified);
    return () => element.removeEventListener("flashverify-verified", onVerified);
  }, []);

  const submit = (event: Event) => {
    event.preventDefault();
    setVerified(null);
    setStarted(true);
    const request = { phone: phone.trim(), fallback, ...(fallback === "email" ? { email } : {}) };
    void widget.current?.begin(async () => {
      setRefusal(null);
      onRefused?.(null);
      const answer = await startVerification(request).catch((error: unknown) => {
        if (error instanceof StartRefused) {
          setRefusal(error);
          onRefused?.(error);
        }
        throw error;
      });
      onStarted(answer, answer.verification?.phone ?? request.phone, fallback === "email" ? email : null);
      return answer;
    });
  };

  return (
    <section class="card signup-card" aria-labelledby="signup-title">
      <h2 id="signup-title">Create your account</h2>
      <form class="signup" onSubmit={submit}>
        <label for="phone">Mobile number</label>
        <input
          id="phone"
          name="phone"
          type="tel"
          autocomplete="tel"
          required
          value={phone}
          onInput={(e) => onPhoneInput(e.currentTarget.value)}
        />
        <label for="fallback">If the call cannot reach the phone, send the code by</label>
        <select id="fallback" value={fallback} onChange={(e) => setFallback(e.currentTarget.value as Fallback)}>
          <option value="sms">SMS</option>
          <option value="whatsapp">WhatsApp</option>
          <option value="email">email</option>
          <option value="voice">a voice call that says it</option>
          <option value="reverse_flashcall">a call from the phone</option>
          <option value="auto">what converts here (auto)</option>
        </select>
        {fallback === "email" && (
          <>
            <label for="email">Email address</label>
            <input
              id="email"
              type="email"
              autocomplete="email"
              value={email}
              onInput={(e) => setEmail(e.currentTarget.value)}
            />
          </>
        )}
        <button type="submit">Verify my number</button>
      </form>
      <div class="verification">
        <flashverify-widget ref={widget} hidden={!started} />
        {!started && <p class="widget-placeholder">The verification widget appears here.</p>}
        {refusal && <RefusalNote refusal={refusal} />}
        {verified && (
          <p class="welcome" role="status">
            Welcome aboard: {verified} is yours.
          </p>
        )}
      </div>
    </section>
  );
}
