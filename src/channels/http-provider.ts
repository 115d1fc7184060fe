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
      return { kind: "accepted", json: parseProviderJson(text) };
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

/**
 * JSON from a provider, its integers beyond 2^53 kept exact as strings. Viber numbers its messages with 64-bit
 * integers: read as doubles, tokens that differ in their last digits become one, and a receipt settles another
 * message (or none). The send's answer and the receipts are read alike, so their ids still match.
 */
export function parseProviderJson(text: string): unknown {
  return JSON.parse(/\d{16}/.test(text) ? quoteUnsafeIntegers(text) : text);
}

/** The JSON text with each integer literal outside strings that a double cannot hold exactly put in quotes. */
function quoteUnsafeIntegers(text: string): string {
  let out = "";
  let copied = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      continue;
    }
    if (c !== "-" && (c < "0" || c > "9")) continue;
    // The whole number, fraction and exponent included, so that no part of one is read as an integer of its own.
    let end = i + 1;
    while (end < text.length && /[0-9.eE+-]/.test(text[end] as string)) end++;
    const literal = text.slice(i, end);
    if (/^-?[0-9]+$/.test(literal) && !Number.isSafeInteger(Number(literal))) {
      out += `${text.slice(copied, i)}"${literal}"`;
      copied = end;
    }
    i = end - 1;
  }
  return out + text.slice(copied);
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
