/**
 * Sinch's verification callbacks, beside our own: an application whose decision callback or webhook endpoint speaks
 * `sinch` receives Sinch's events, signed with its newest Sinch credential pair the way Sinch signs callbacks
 * (`Authorization: Application <key>:<signature>`, src/events/sinch-signature.ts), so the SDK's
 * `validateAuthenticationHeader` accepts them.
 *
 * - VerificationRequestEvent is the pre-send decision callback's question: it is asked at the start pipeline's
 *   decide step, and its answer (`action`, and a `method` to use instead) goes through the same screening as any.
 *   A `flashCall.cli` or `sms.code` in the answer is not honoured: the caller ID comes from our pool and only the
 *   server knows a code.
 * - VerificationResultEvent is a webhook delivery of the events that end a verification: durable, retried and
 *   logged like every other delivery.
 */
import type { Decision, DecisionRequest } from "../core/decision.js";
import type { StoredEvent } from "../core/ports.js";
import type { SinchPair } from "../core/sinch-credentials.js";
import type { Verification } from "../core/types.js";
import { sinchSignedHeaders } from "./sinch-signature.js";
import { CHANNEL_OF_METHOD, customOf, methodOf, sinchMethod, sinchStatus } from "./sinch-vocabulary.js";

export interface SinchCallbackDeps {
  /** the pair that signs an application's callbacks */
  signingPair(applicationId: string): Promise<SinchPair | undefined>;
  /** a verification as it is now (a result event reports its final state) */
  verification(id: string): Promise<Verification | undefined>;
}

export class SinchCallbacks {
  constructor(private readonly deps: SinchCallbackDeps) {}

  /** The body of a VerificationRequestEvent. */
  requestEvent(request: DecisionRequest): string {
    const custom = typeof request.metadata?.custom === "string" ? request.metadata.custom : undefined;
    return JSON.stringify({
      id: request.verificationId,
      event: "VerificationRequestEvent",
      method: sinchMethod(request.channel),
      identity: { type: "number", endpoint: request.phone },
      ...(request.reference ? { reference: request.reference } : {}),
      ...(custom === undefined ? {} : { custom }),
    });
  }

  /** The body of the VerificationResultEvent for an event that ended a verification; undefined for any other. */
  async resultEvent(event: StoredEvent): Promise<string | undefined> {
    const v = await this.deps.verification(event.verificationId);
    if (!v || v.status === "pending") return undefined;
    const custom = customOf(v);
    return JSON.stringify({
      id: v.id,
      event: "VerificationResultEvent",
      method: methodOf(v),
      identity: { type: "number", endpoint: v.phone },
      ...sinchStatus(v),
      ...(v.reference ? { reference: v.reference } : {}),
      ...(v.status === "verified" ? { source: v.verifiedCallerId ? "intercepted" : "manual" } : {}),
      ...(custom === undefined ? {} : { custom }),
    });
  }

  /** The headers that sign `body` for a POST to `url`; undefined when the application has no Sinch pair. */
  async headers(
    applicationId: string,
    url: string,
    body: string,
    now: number,
  ): Promise<Record<string, string> | undefined> {
    const pair = await this.deps.signingPair(applicationId);
    if (!pair) return undefined;
    return sinchSignedHeaders(pair, { path: new URL(url).pathname, body, now });
  }
}

/**
 * The application's answer to a VerificationRequestEvent: `{"action": "allow" | "deny"}`, optionally with the
 * `method` to use instead; undefined when it is not one.
 */
export function readSinchAnswer(text: string): Decision | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { action, method } = value as { action?: unknown; method?: unknown };
  if (action !== "allow" && action !== "deny") return undefined;
  const channel = typeof method === "string" ? CHANNEL_OF_METHOD[method] : undefined;
  return channel ? { decision: action, workflow: [channel] } : { decision: action };
}
