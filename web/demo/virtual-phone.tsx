/**
 * The sandbox's virtual phone for one number, live: the incoming call while it rings, the call log with the caller
 * IDs it saw, and the SMS, WhatsApp and email messages as they arrive. It is the handset's view, which shows the
 * caller ID in full; the sign-up form beside it only ever learns the masked pattern.
 */

import { usePoll } from "../shared/use-poll.js";
import { readInbox, readPhone } from "./api.js";

const POLL_MS = 400;

const CALL_RESULTS: Record<string, string> = {
  ringing: "ringing",
  missed: "missed call",
  busy: "busy: rejected with 486",
  not_found: "not found: 404",
  no_answer: "no answer",
  answered: "answered",
};

const time = (iso: string) =>
  new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });

export function VirtualPhone({ phone, email }: { phone: string | null; email: string | null }) {
  const handset = usePoll(phone, () => readPhone(phone as string), POLL_MS);
  const mailbox = usePoll(email, () => readInbox(email as string), POLL_MS);
  const ringing = handset?.calls.find((c) => c.result === "ringing");
  return (
    <section class="phone" aria-labelledby="phone-title">
      <div class="phone-bar" aria-hidden="true">
        <span>Sandbox</span>
        <span>▂▄▆█</span>
      </div>
      <h2 id="phone-title" class="phone-title">
        Virtual phone {phone ? <span class="phone-number">{phone}</span> : null}
      </h2>
      {!phone && <p class="phone-empty">Start a verification: this phone shows what the number receives.</p>}
      {ringing && (
        <div class="incoming" role="status" aria-label={`Incoming call from ${ringing.from}`}>
          <span class="incoming-label">Incoming call</span>
          <span class="caller-id">{ringing.from}</span>
        </div>
      )}
      {phone && (
        <>
          <h3>Recent calls</h3>
          <ul class="calls" aria-label="Recent calls">
            {handset?.calls.length === 0 && <li class="phone-empty">No calls yet.</li>}
            {handset?.calls.map((call) => (
              <li key={call.received_at + call.from} class={`call call-${call.result}`}>
                <span class="caller-id">{call.from}</span>
                <span class="call-result">{CALL_RESULTS[call.result] ?? call.result}</span>
                <time dateTime={call.received_at}>{time(call.received_at)}</time>
              </li>
            ))}
          </ul>
          <h3>Messages</h3>
          <ul class="messages" aria-label="Messages">
            {handset?.messages.length === 0 && <li class="phone-empty">No messages yet.</li>}
            {handset?.messages.map((m) => (
              <li key={m.received_at + m.text} class={`message message-${m.channel}`}>
                <span class="message-from">
                  {m.channel === "whatsapp" ? "WhatsApp" : "SMS"} from {m.from}
                </span>
                <span class="message-text">{m.text}</span>
                <time dateTime={m.received_at}>{time(m.received_at)}</time>
              </li>
            ))}
          </ul>
        </>
      )}
      {email && (
        <>
          <h3>Mail for {email}</h3>
          <ul class="messages" aria-label="Mail">
            {mailbox?.messages.length === 0 && <li class="phone-empty">No mail yet.</li>}
            {mailbox?.messages.map((m) => (
              <li key={m.received_at + m.subject} class="message message-email">
                <span class="message-from">{m.subject}</span>
                <span class="message-text">{m.text}</span>
                <time dateTime={m.received_at}>{time(m.received_at)}</time>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
