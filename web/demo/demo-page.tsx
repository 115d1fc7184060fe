/**
 * The demo's layout: the sign-up form with the widget and the virtual phone side by side, the server's events under
 * the form, the test numbers below. On a phone the virtual phone comes right after the form, so the caller ID to
 * type is one short scroll from the field, and the events follow.
 */
import { useState } from "preact/hooks";
import type { StartedVerification } from "../../sdk/src/widget/index.js";
import { TEST_NUMBERS } from "../../src/sandbox/test-numbers.js";
import type { StartRefused } from "./api.js";
import { EventLog } from "./event-log.js";
import { SignupForm } from "./signup-form.js";
import { VirtualPhone } from "./virtual-phone.js";

export function DemoPage() {
  const [phone, setPhone] = useState(TEST_NUMBERS[0]?.phone ?? "");
  const [shown, setShown] = useState<{ phone: string; email: string | null } | null>(null);
  const [started, setStarted] = useState<StartedVerification | null>(null);
  const [refused, setRefused] = useState<StartRefused | null>(null);
  return (
    <main class="demo">
      <header>
        <h1>flashverify demo</h1>
        <p class="lead">
          Sign up with a phone number and watch it verified by a <strong>flash call</strong>: a missed call whose caller
          ID ends in the code. The phone on the right is the server's virtual carrier: real SIP calls, a real SMSC, and
          nothing leaves this machine.
        </p>
      </header>
      <div class="demo-grid">
        <SignupForm
          phone={phone}
          onPhoneInput={setPhone}
          onStarted={(verification, p, email) => {
            setStarted(verification);
            setShown({ phone: p, email });
          }}
          onRefused={(refusal) => {
            setRefused(refusal);
            // A refused start has no events of its own to follow: the panel shows the refusal instead.
            if (refusal) setStarted(null);
          }}
        />
        <VirtualPhone
          phone={shown?.phone ?? null}
          email={shown?.email ?? null}
          since={startedAt(started)}
          started={started}
        />
        <EventLog started={started} refused={refused} />
      </div>
      <section class="card" aria-labelledby="numbers-title">
        <h2 id="numbers-title">Test numbers</h2>
        <p>The virtual phones decide by a number's last four digits. Pick one, then press "Verify my number".</p>
        <ul class="test-numbers">
          {TEST_NUMBERS.map((t) => (
            <li key={t.phone}>
              <button
                type="button"
                class="number-pick"
                onClick={() => setPhone(t.phone)}
                aria-label={`Use ${t.name}: ${t.phone}`}
              >
                <span class="number-name">{t.name}</span>
                <span class="number-phone">{t.phone}</span>
              </button>
              <span class="number-what">{t.what}</span>
            </li>
          ))}
        </ul>
      </section>
    </main>
  );
}

/** When the verification began by the server's clock, which also stamps what the virtual phone receives. */
function startedAt(started: StartedVerification | null): number | null {
  const created = started?.verification?.created_at;
  return typeof created === "string" ? Date.parse(created) : null;
}
