/**
 * A typed client of the flashverify API for backends (API key) and browsers or apps (a verification's client
 * token), on the platform's `fetch`: start, read, check, "Use SMS instead", cancel, delivery reports from the phone,
 * and live status over SSE.
 * `EventSource` cannot send an Authorization header, so the stream is read with `fetch` and parsed here.
 */

export type Channel = "flashcall" | "sms" | "whatsapp" | "viber" | "email" | "voice" | "reverse_flashcall";
export type Status = "pending" | "verified" | "failed" | "expired" | "canceled";

/** One call or message of a verification; `expires_at` is when its code stops counting. */
export interface Attempt {
  id: string;
  channel: Channel;
  status: "dialing" | "ringing" | "sent" | "delivered" | "failed";
  reason: string | null;
  created_at: string;
  expires_at: string;
  /** flash calls: what the phone reported of the call (see `report`) */
  phone_report?: { outcome: ReportOutcome; source: ReportSource; at: string } | null;
  [field: string]: unknown;
}

/** What the phone saw of a flash call: it came, it came after the step had moved on, or it never came. */
export type ReportOutcome = "received" | "late" | "not_received";
/** How the app knows: it read the incoming call, the call log, or the person said so. */
export type ReportSource = "intercept" | "call_log" | "manual";

export interface Verification {
  id: string;
  status: Status;
  reason: string | null;
  /** null once its personal data was removed (retention, or DELETE /v1/verifications/{id}) */
  phone: string | null;
  channel: Channel;
  workflow: { channel: Channel; timeout: number }[];
  /** index in `workflow` of the step under way */
  step: number;
  expires_at: string;
  next_step_at: string | null;
  attempts_remaining: number;
  flashcall: { pattern: string; code_length: number; cli_filter: string } | null;
  message: { channel: Exclude<Channel, "flashcall" | "reverse_flashcall">; code_length: number } | null;
  /** a reverse flash call under way: the phone calls `dial` (a `tel:` link) before `expires_at`, and is verified */
  reverse_flashcall?: { dial: string; expires_at: string } | null;
  attempts: Attempt[];
  [field: string]: unknown;
}

export interface Started extends Pick<Verification, "id" | "status" | "channel" | "expires_at"> {
  phone: string;
  client_token: string;
  flashcall: Verification["flashcall"];
  message: Verification["message"];
  reverse_flashcall?: Verification["reverse_flashcall"];
  verification: Verification;
}

export interface StartRequest {
  phone: string;
  workflow?: { channel: Channel; timeout?: number }[];
  email?: string;
  reference?: string;
  metadata?: Record<string, string | number | boolean | null>;
  /** the person's device as your backend sees it; pass `ip`, or every start counts against your server's address */
  client?: {
    ip?: string;
    device_id?: string;
    platform?: "android" | "ios" | "web" | "other";
    app_version?: string;
    user_agent?: string;
  };
}

/** An event as webhooks, `/v1/events` and the stream carry it (README "Event catalogue"). */
export interface EventJson {
  id: string;
  type: string;
  timestamp: string;
  data: { verification_id: string; attempt_id: string | null } & Record<string, unknown>;
}

export interface LiveEvent {
  id: string | null;
  /** `state` first (the whole verification), then event types such as `attempt.ringing`, `verification.verified` */
  type: string;
  data: Record<string, unknown>;
}

/** An error answer of the API: its stable code, HTTP status and message. */
export class FlashverifyError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterSeconds: number | null,
  ) {
    super(message);
    this.name = "FlashverifyError";
  }
}

export interface ClientOptions {
  /** e.g. "https://verify.example.com" */
  baseUrl: string;
  /** an API key (backend) or a verification's client token (browser/app) */
  token: string;
  fetch?: typeof fetch;
}

export function createClient(options: ClientOptions) {
  const base = options.baseUrl.replace(/\/$/, "");
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const auth = { authorization: `Bearer ${options.token}` };

  async function call<T>(method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<T> {
    const response = await doFetch(`${base}${path}`, {
      method,
      headers: { ...auth, ...(body === undefined ? {} : { "content-type": "application/json" }), ...extra },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const payload = (await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
    if (!response.ok) {
      const retry = response.headers.get("retry-after");
      throw new FlashverifyError(
        response.status,
        payload.error?.code ?? "HTTP_ERROR",
        payload.error?.message ?? response.statusText,
        retry === null ? null : Number(retry),
      );
    }
    return payload as T;
  }

  const path = (id: string) => `/v1/verifications/${encodeURIComponent(id)}`;
  return {
    /** Backend only (API key). `idempotencyKey` makes a retry return the first verification. */
    start: (request: StartRequest, idempotencyKey?: string) =>
      call<Started>("POST", "/v1/verifications", request, idempotencyKey ? { "idempotency-key": idempotencyKey } : {}),
    get: (id: string) => call<Verification>("GET", path(id)),
    /** The last digits of the missed call (or a message's code), or the whole caller ID. */
    check: (id: string, reported: { code: string } | { caller_id: string }) =>
      call<{ id: string; status: Status; attempts_remaining: number }>("POST", `${path(id)}/check`, reported),
    /** "Use SMS instead": the next step of the workflow now (or a new code on the last message step). */
    next: (id: string) => call<Verification>("POST", `${path(id)}/next`),
    cancel: (id: string) => call<Verification>("POST", `${path(id)}/cancel`),
    /**
     * What the phone saw of the flash call. It verifies nothing; the server measures delivery by it (a silently
     * dropped call looks delivered to the server). A repeated report is counted once (`recorded: false`).
     */
    report: (id: string, flashcall: { outcome: ReportOutcome; source: ReportSource }) =>
      call<{
        id: string;
        status: Status;
        attempt_id: string;
        phone_report: Attempt["phone_report"];
        recorded: boolean;
      }>("POST", `${path(id)}/report`, { flashcall }),
    /** The verification's events so far, oldest first (what a client token may see of them). */
    events: async (id: string) => (await call<{ data: EventJson[] }>("GET", `${path(id)}/events`)).data,
    /**
     * Live status: `onEvent` gets `state` first, then each event as it happens, until the verification ends or
     * `close()` is called. A dropped stream resumes from the last event id.
     */
    subscribe(id: string, onEvent: (event: LiveEvent) => void, onError?: (error: unknown) => void) {
      const controller = new AbortController();
      let lastEventId: string | null = null;
      let finished = false;
      const run = async () => {
        for (let attempt = 0; !finished && !controller.signal.aborted; attempt++) {
          try {
            const response = await doFetch(`${base}${path(id)}/stream`, {
              headers: {
                ...auth,
                accept: "text/event-stream",
                ...(lastEventId ? { "last-event-id": lastEventId } : {}),
              },
              signal: controller.signal,
            });
            if (!response.ok || !response.body) {
              throw new FlashverifyError(response.status, "STREAM_REFUSED", response.statusText, null);
            }
            for await (const event of readEvents(response.body)) {
              if (event.id) lastEventId = event.id;
              onEvent(event);
              if (/^verification\.(verified|failed|expired|canceled|blocked)$/.test(event.type)) finished = true;
            }
          } catch (error) {
            if (controller.signal.aborted) return;
            if (error instanceof FlashverifyError && error.status < 500) {
              onError?.(error);
              return;
            }
            onError?.(error);
          }
          if (!finished) await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** attempt, 5000)));
        }
      };
      void run();
      return { close: () => controller.abort() };
    },
  };
}

export type FlashverifyClient = ReturnType<typeof createClient>;

/** Parses a `text/event-stream` body into events (`id:`, `event:`, `data:` lines; comments ignored). */
export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<LiveEvent> {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
    for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let id: string | null = null;
      let type = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "id") id = value;
        else if (field === "event") type = value;
        else if (field === "data") data.push(value);
      }
      if (data.length > 0) yield { id, type, data: JSON.parse(data.join("\n")) as Record<string, unknown> };
    }
  }
}
