/**
 * The pre-send decision callback: before anything is sent for a new verification, the application's URL receives
 * the request, signed the Standard Webhooks way with the callback's own secret, and answers
 * `{"decision": "allow" | "deny", "workflow"?: [...]}` within its deadline. No answer in time, a non-2xx status
 * or an unreadable body means the application's configured default. Applications without a callback cost one map
 * lookup per start. A callback of format `sinch` is asked Sinch's VerificationRequestEvent instead (sinch-callbacks.ts).
 */
import { err, ok, type Result } from "../core/errors.js";
import type { Clock } from "../core/ports.js";
import type { Decision, DecisionRequest, PreSendDecider } from "../core/verification-service.js";
import { type AddressClass, urlAllowed } from "./address-guard.js";
import { postJson } from "./outbound-post.js";
import { newWebhookSecret, webhookHeaders } from "./signature.js";
import { readSinchAnswer, type SinchCallbacks } from "./sinch-callbacks.js";
import type { DecisionCallback, WebhookStore } from "./webhook-store.js";

/** how long an application's callback settings are cached; changes made through this server apply at once */
const CACHE_MS = 5000;

export class CallbackDecider implements PreSendDecider {
  private readonly cache = new Map<string, { callback: DecisionCallback | undefined; until: number }>();

  constructor(
    private readonly options: {
      store: WebhookStore;
      clock: Clock;
      allowed: ReadonlySet<AddressClass>;
      /** connections open at once to one callback receiver (outbound-post.ts); default 64 */
      maxConnections?: number;
      /** Sinch's VerificationRequestEvent, for callbacks whose format is `sinch` */
      sinch?: SinchCallbacks;
      onError?: (error: unknown) => void;
    },
  ) {}

  /** Sets an application's callback; its secret is kept unless `rotateSecret` (or there was none). */
  async configure(
    applicationId: string,
    input: {
      url: string;
      timeoutMs: number;
      defaultDecision: "allow" | "deny";
      rotateSecret: boolean;
      format?: "flashverify" | "sinch" | undefined;
    },
  ): Promise<Result<DecisionCallback>> {
    if (!urlAllowed(input.url, this.options.allowed)) return err("URL_NOT_ALLOWED");
    const now = this.options.clock.now();
    const current = await this.options.store.getDecisionCallback(applicationId);
    const callback: DecisionCallback = {
      applicationId,
      url: input.url,
      secret: current && !input.rotateSecret ? current.secret : newWebhookSecret(),
      timeoutMs: input.timeoutMs,
      defaultDecision: input.defaultDecision,
      createdAt: current?.createdAt ?? now,
      updatedAt: now,
      format: input.format ?? "flashverify",
    };
    await this.options.store.putDecisionCallback(callback);
    this.cache.delete(applicationId);
    return ok(callback);
  }

  async settings(applicationId: string): Promise<Result<DecisionCallback>> {
    const callback = await this.options.store.getDecisionCallback(applicationId);
    return callback ? ok(callback) : err("DECISION_CALLBACK_NOT_FOUND");
  }

  async remove(applicationId: string): Promise<Result<true>> {
    const removed = await this.options.store.deleteDecisionCallback(applicationId);
    this.cache.delete(applicationId);
    return removed ? ok(true) : err("DECISION_CALLBACK_NOT_FOUND");
  }

  async decide(request: DecisionRequest): Promise<Decision | undefined> {
    const callback = await this.callbackFor(request.applicationId);
    if (!callback) return undefined;
    const now = this.options.clock.now();
    if (callback.format === "sinch") return this.decideSinch(callback, request, now);
    const body = JSON.stringify({
      type: "verification.decision",
      timestamp: new Date(now).toISOString(),
      data: {
        verification_id: request.verificationId,
        phone: request.phone,
        country: request.country,
        channel: request.channel,
        reference: request.reference,
        metadata: request.metadata,
        client: request.client,
      },
    });
    const headers = webhookHeaders([callback.secret], request.verificationId, Math.floor(now / 1000), body);
    const outcome = await postJson(callback.url, body, headers, {
      timeoutMs: callback.timeoutMs,
      allowed: this.options.allowed,
      maxConnections: this.options.maxConnections,
    });
    const fallback = { decision: callback.defaultDecision };
    if (outcome.statusCode === null || outcome.statusCode < 200 || outcome.statusCode >= 300) return fallback;
    return readDecision(outcome.body) ?? fallback;
  }

  /** Sinch's question, signed with the application's Sinch pair; without a pair to sign with, the default applies. */
  private async decideSinch(callback: DecisionCallback, request: DecisionRequest, now: number): Promise<Decision> {
    const fallback = { decision: callback.defaultDecision };
    const sinch = this.options.sinch;
    if (!sinch) return fallback;
    const body = sinch.requestEvent(request);
    const headers = await sinch.headers(request.applicationId, callback.url, body, now);
    if (!headers) return fallback;
    const outcome = await postJson(callback.url, body, headers, {
      timeoutMs: callback.timeoutMs,
      allowed: this.options.allowed,
      maxConnections: this.options.maxConnections,
    });
    if (outcome.statusCode === null || outcome.statusCode < 200 || outcome.statusCode >= 300) return fallback;
    return readSinchAnswer(outcome.body) ?? fallback;
  }

  private async callbackFor(applicationId: string): Promise<DecisionCallback | undefined> {
    const now = Date.now();
    const cached = this.cache.get(applicationId);
    if (cached && cached.until > now) return cached.callback;
    const callback = await this.options.store.getDecisionCallback(applicationId);
    this.cache.set(applicationId, { callback, until: now + CACHE_MS });
    return callback;
  }
}

/** The application's answer, or undefined when it is not one. */
export function readDecision(text: string): Decision | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { decision, workflow } = value as { decision?: unknown; workflow?: unknown };
  if (decision !== "allow" && decision !== "deny") return undefined;
  const channels =
    Array.isArray(workflow) && workflow.every((c) => typeof c === "string") ? (workflow as string[]) : undefined;
  return { decision, workflow: channels };
}
