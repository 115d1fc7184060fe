/**
 * The HTTP half shared by providers that take a message in one request (HTTP SMS gateways, Twilio, WhatsApp Cloud
 * API): send with a deadline, and sort the answer into accepted / rejected / unknown the way the no-duplicate rule
 * needs. A 4xx is the provider refusing (nothing sent); a 5xx or refused connection means it was not taken; a
 * timeout after the request left is unknown, and is not retried.
 */
import type { MessageOutcome } from "./message-channel.js";

export interface ProviderRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

export type ProviderAnswer =
  | { kind: "accepted"; json: unknown }
  | { kind: "failed"; outcome: Omit<MessageOutcome, "at"> };

export async function postToProvider(request: ProviderRequest): Promise<ProviderAnswer> {
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: "POST",
      headers: request.headers,
      body: request.body,
      redirect: "error",
      signal: AbortSignal.timeout(request.timeoutMs),
    });
  } catch (error) {
    const name = (error as Error).name;
    if (name === "TimeoutError" || name === "AbortError") {
      return { kind: "failed", outcome: failed("submit_unknown", `no answer within ${request.timeoutMs} ms`) };
    }
    return { kind: "failed", outcome: failed("network_error", causeOf(error)) };
  }
  const text = await response.text();
  if (response.status >= 200 && response.status < 300) {
    try {
      return { kind: "accepted", json: JSON.parse(text) };
    } catch {
      return {
        kind: "failed",
        outcome: failed("submit_unknown", `HTTP ${response.status} with a body that is not JSON`),
      };
    }
  }
  const detail = `HTTP ${response.status}: ${text.slice(0, 300)}`;
  return { kind: "failed", outcome: failed(response.status >= 500 ? "network_error" : "rejected", detail) };
}

function failed(reason: MessageOutcome["reason"], detail: string): Omit<MessageOutcome, "at"> {
  return { delivered: false, reason, detail };
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

/** Reads `a.b.0.c` out of parsed JSON; undefined when any step is missing. */
export function valueAt(json: unknown, path: string): unknown {
  let value = json;
  for (const key of path.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/**
 * Tracks sent messages by the provider's id until their final report, so a webhook report finds its attempt.
 * Entries end on a final report or after `ttlMs` (no report: `no_receipt`).
 */
export class ReceiptTracker {
  private readonly byProviderId = new Map<
    string,
    { end: (o: Omit<MessageOutcome, "at">) => void; timer: NodeJS.Timeout }
  >();

  constructor(private readonly ttlMs: number) {}

  track(providerId: string, end: (outcome: Omit<MessageOutcome, "at">) => void): void {
    const timer = setTimeout(
      () => this.settle(providerId, { delivered: false, reason: "no_receipt", detail: null }),
      this.ttlMs,
    );
    timer.unref();
    this.byProviderId.set(providerId, { end, timer });
  }

  /** Ends the attempt behind `providerId`; false when it is unknown or already ended. */
  settle(providerId: string, outcome: Omit<MessageOutcome, "at">): boolean {
    const entry = this.byProviderId.get(providerId);
    if (!entry) return false;
    clearTimeout(entry.timer);
    this.byProviderId.delete(providerId);
    entry.end(outcome);
    return true;
  }

  clear(): void {
    for (const entry of this.byProviderId.values()) clearTimeout(entry.timer);
    this.byProviderId.clear();
  }
}
