/**
 * The demo page's calls to the server: starting a verification through the demo's backend route (as an
 * integrator's backend would), and reading what the sandbox's virtual phone and mailbox received.
 */
import { FlashverifyError, type Verification } from "../../sdk/src/client.js";
import type { StartedVerification } from "../../sdk/src/widget/index.js";

export type Fallback = "sms" | "whatsapp" | "email" | "voice" | "reverse_flashcall" | "auto";

export interface PhoneCall {
  from: string;
  received_at: string;
  result: "ringing" | "missed" | "busy" | "not_found" | "no_answer" | "answered" | "rejected";
  /** a voice call the phone answered: its length and recording once it has ended */
  voice?: { codec: string; duration_ms: number | null; recording: string | null };
}

export interface PhoneMessage {
  channel: "sms" | "whatsapp";
  from: string;
  text: string;
  received_at: string;
}

export interface MailMessage {
  from: string;
  subject: string;
  text: string;
  received_at: string;
}

/** An error answer with the details the API gave (the limit that was reached, the risk factors, ...). */
export class StartRefused extends FlashverifyError {
  constructor(
    status: number,
    code: string,
    message: string,
    retryAfterSeconds: number | null,
    readonly details: Record<string, unknown> | null,
  ) {
    super(status, code, message, retryAfterSeconds);
  }
}

async function json<T>(response: Response): Promise<T> {
  const body = (await response.json().catch(() => ({}))) as {
    error?: { code?: string; message?: string; details?: Record<string, unknown> };
  };
  if (!response.ok) {
    const retry = response.headers.get("retry-after");
    throw new StartRefused(
      response.status,
      body.error?.code ?? "HTTP_ERROR",
      body.error?.message ?? response.statusText,
      retry === null ? null : Number(retry),
      body.error?.details ?? null,
    );
  }
  return body as T;
}

/** What the sign-up form's backend does: start a verification, hand the browser its id and client token. */
export async function startVerification(request: {
  phone: string;
  fallback: Fallback;
  email?: string;
}): Promise<StartedVerification> {
  const response = await fetch("/demo/api/verifications", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(request),
  });
  return json<StartedVerification>(response);
}

export async function readPhone(phone: string): Promise<{ calls: PhoneCall[]; messages: PhoneMessage[] }> {
  return json(await fetch(`/sandbox/phones/${encodeURIComponent(phone)}`));
}

/** The verification as its client token reads it (the reverse flash call's number to call, while it waits). */
export async function readVerification(started: StartedVerification): Promise<Verification> {
  const headers = { authorization: `Bearer ${started.client_token}` };
  return json(await fetch(`/v1/verifications/${encodeURIComponent(started.id)}`, { headers }));
}

/** The virtual phone calls `to`: the virtual carrier delivers the call to the server's inbound listener. */
export async function placeCall(
  phone: string,
  to: string,
): Promise<{ sip_code: number | null; reason: string | null }> {
  return json(
    await fetch(`/sandbox/phones/${encodeURIComponent(phone)}/calls`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ to }),
    }),
  );
}

export async function readInbox(address: string): Promise<{ messages: MailMessage[] }> {
  return json(await fetch(`/sandbox/inbox/${encodeURIComponent(address)}`));
}
