/**
 * The sandbox's virtual phone for one number, live: the incoming call while it rings, the call log with the caller
 * IDs it saw (a voice call with its length and a player for what the phone heard), and the SMS, WhatsApp and email
 * messages as they arrive. It is the handset's view, which shows the
 * caller ID in full; the sign-up form beside it only ever learns the masked pattern. While a reverse flash call
 * waits, the phone offers to call the number shown: the virtual carrier delivers the call to the server.
 */

import { useEffect, useState } from "preact/hooks";
import type { StartedVerification } from "../../sdk/src/widget/index.js";
import { formatTime as time } from "../shared/format-time.js";
import { usePoll } from "../shared/use-poll.js";
import { placeCall, readInbox, readPhone, readVerification } from "./api.js";

const POLL_MS = 400;

const CALL_RESULTS: Record<string, string> = {
  ringing: "ringing",
  missed: "missed call",
  busy: "busy: rejected with 486",
  not_found: "not found: 404",
  no_answer: "no answer",
  answered: "answered",
  rejected: "rejected: 488",
};

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export interface VirtualPhoneProps {
  phone: string | null;
  email: string | null;
  /** when the verification on screen began (ms): what arrived before it belongs to earlier ones, hidden by default */
  since: number | null;
  /** the verification on screen, read with its client token for a reverse flash call's number */
  started: StartedVerification | null;
}

export function VirtualPhone({ phone, email, since, started }: VirtualPhoneProps) {
  const [showEarlier, setShowEarlier] = useState(false);
  const [dialled, setDialled] = useState<{ to: string; answer: string } | null>(null);
  useEffect(() => {
    setShowEarlier(false);
    setDialled(null);
  }, [since]);
  const verification = usePoll(started?.id ?? null, () => readVerification(started as StartedVerification), POLL_MS);
  const reverse = verification?.status === "pending" ? verification.reverse_flashcall : null;
  const call = async (to: string) => {
    setDialled({ to, answer: "calling…" });
    const placed = await placeCall(phone as string, to).catch(() => null);
    const answer = placed?.sip_code
      ? `declined by the server (${placed.sip_code} ${placed.reason ?? ""}), free of charge`
      : "no answer from the server";
    setDialled({ to, answer });
  };
  const handsetAll = usePoll(phone, () => readPhone(phone as string), POLL_MS);
  const mailboxAll = usePoll(email, () => readInbox(email as string), POLL_MS);
  const current = <T extends { received_at: string }>(items: T[] = []) =>
    showEarlier || since === null ? items : items.filter((item) => Date.parse(item.received_at) >= since);
  const handset = handsetAll && { calls: current(handsetAll.calls), messages: current(handsetAll.messages) };
  const mailbox = mailboxAll && { messages: current(mailboxAll.messages) };
  const earlier =
    (handsetAll?.calls.length ?? 0) +
    (handsetAll?.messages.length ?? 0) +
    (mailboxAll?.messages.length ?? 0) -
    ((handset?.calls.length ?? 0) + (handset?.messages.length ?? 0) + (mailbox?.messages.length ?? 0));
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
      {phone && reverse && (
        <div class="outgoing">
          <span>The app asks this phone to call {reverse.dial}</span>
          <button type="button" class="call-button" onClick={() => void call(reverse.dial)}>
            Call {reverse.dial}
          </button>
        </div>
      )}
      {dialled && (
        <p class="outgoing-result" role="status">
          Called {dialled.to}: {dialled.answer}
        </p>
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
                {call.voice && (
                  <span class="call-voice">
                    {call.voice.duration_ms === null ? (
                      "voice call in progress"
                    ) : (
                      <>
                        voice call, {seconds(call.voice.duration_ms)}
                        {call.voice.recording && (
                          // biome-ignore lint/a11y/useMediaCaption: the recording is the spoken code itself; its text is the code the form asks for
                          <audio controls preload="none" src={call.voice.recording} aria-label="What the phone heard" />
                        )}
                      </>
                    )}
                  </span>
                )}
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
      {since !== null && (earlier > 0 || showEarlier) && (
        <button type="button" class="show-earlier" onClick={() => setShowEarlier(!showEarlier)}>
          {showEarlier ? "Show this verification's only" : `Show ${earlier} from earlier verifications`}
        </button>
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
