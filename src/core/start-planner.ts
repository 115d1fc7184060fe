/**
 * The first step of a start: what the request asks for, checked against what this server can send, and the plan
 * that follows from it (which step sends first, from which pool, at what odds of guessing its code). The plan is
 * what the fraud controls judge and, unchanged, what is persisted and sent; a decision callback's answer becomes a
 * new plan through `replan`, never an edit of a screened one.
 */
import type { AutoChoice } from "./channel-choice.js";
import { err, errWith, ok, type Result } from "./errors.js";
import { hashRequest } from "./idempotency.js";
import { newId } from "./ids.js";
import { DEFAULT_OTP_LENGTH } from "./otp.js";
import { type ParsedPhone, parseDestination } from "./phone.js";
import type { NumberPool } from "./pool.js";
import type { ChannelChoice, ChannelName, ClientInfo, WorkflowStep } from "./types.js";
import { DEFAULT_STEP_TIMEOUT_MS, stepReaches } from "./workflow.js";

export interface StartInput {
  phone: string;
  /** the channels to try, in order, or `auto` (chosen by measured delivery); default the configured workflow */
  workflow?: Array<{ channel: ChannelName; timeout?: number | undefined }> | "auto" | undefined;
  /** the address for an email step */
  email?: string | undefined;
  /** ISO country of a number written nationally (`07400 123456` with `GB`) */
  country?: string | undefined;
  reference?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
  client?: ClientInfo | undefined;
  /** the language the person reads (BCP 47); kept with the client's fields */
  locale?: string | undefined;
}

export interface StartOptions {
  /** the request's Idempotency-Key: a retry with the same key and body returns the first verification */
  idempotencyKey?: string | undefined;
  /** the request's address: the client's IP for the fraud controls when the body names none */
  requestIp?: string | undefined;
  /** the client IP's country as a trusted proxy reported it */
  ipCountry?: string | undefined;
}

/** A start request as read: who asks, for which destination, under which new id. */
export interface StartRequest {
  readonly applicationId: string;
  readonly verificationId: string;
  readonly input: StartInput;
  readonly phone: ParsedPhone;
  /** the request's client fields, `ip` defaulted to the request's address */
  readonly client: ClientInfo;
  readonly ipCountry: string | null;
  readonly destination: Destination;
  readonly idempotency: { key: string; requestHash: string } | undefined;
  readonly now: number;
}

export interface Destination {
  numberType: string;
  email: string | null;
}

/** What a start will send: the workflow, the step that sends first, and what the fraud controls judge of it. */
export interface StartPlan {
  readonly workflow: readonly WorkflowStep[];
  /** the first step the destination can take; those before it are skipped */
  readonly first: number;
  readonly channel: ChannelName;
  /** the pool of a flash call; null for a message */
  readonly pool: NumberPool | null;
  /** the worst odds of guessing the first step's code */
  readonly guessProbability: number;
  /** why workflow auto chose these channels; null for a workflow the request (or the application) named */
  readonly channelChoice: ChannelChoice | null;
}

export interface PlannerSettings {
  flashcallTtlMs: number;
  flashcallMaxChecks: number;
  otpMaxChecks: number;
  otpLength?: number | undefined;
  defaultWorkflow: WorkflowStep[] | "auto";
}

export interface StartPlannerDeps {
  settings: PlannerSettings;
  /** whether this server can send on a message channel */
  configured: (channel: Exclude<ChannelName, "flashcall">) => boolean;
  /** pools that may call a destination in `country`, best first */
  poolsFor: (country: string) => readonly NumberPool[];
  /** workflow auto's choice; without it `auto` is refused */
  auto?: AutoChoice | undefined;
}

export class StartPlanner {
  constructor(private readonly deps: StartPlannerDeps) {}

  /** Reads a start request: the destination must parse; the id and time are fixed here, once. */
  request(applicationId: string, input: StartInput, options: StartOptions, now: number): Result<StartRequest> {
    const phone = parseDestination(input.phone, input.country);
    if (!phone) return err("INVALID_PHONE_NUMBER");
    const client: ClientInfo = { ...input.client };
    if (input.locale !== undefined) client.locale = input.locale;
    if (client.ip === undefined && options.requestIp !== undefined) client.ip = options.requestIp;
    const key = options.idempotencyKey;
    return ok(
      Object.freeze({
        applicationId,
        verificationId: newId("ver", now),
        input,
        phone,
        client,
        ipCountry: options.ipCountry ?? null,
        destination: { numberType: phone.type, email: input.email ?? null },
        idempotency: key === undefined ? undefined : { key, requestHash: hashRequest(input) },
        now,
      }),
    );
  }

  /** The plan for the workflow the request names (or the configured default), or that workflow auto chooses. */
  plan(request: StartRequest): Result<StartPlan> {
    const asked = request.input.workflow ?? (this.deps.settings.defaultWorkflow === "auto" ? "auto" : undefined);
    if (asked === "auto") return this.choose(request);
    const workflow = this.workflowOf(asked);
    return workflow.ok ? this.planFor(workflow.value, request, null) : workflow;
  }

  /** Workflow auto: the channels the delivery measurement chooses for the destination's network, with the reason. */
  private choose(request: StartRequest): Result<StartPlan> {
    const { auto } = this.deps;
    if (!auto) return err("INVALID_WORKFLOW", "workflow auto is not available on this server");
    const { e164: phone, country } = request.phone;
    const choice = auto.choose({
      phone,
      country,
      canDial: request.client.can_dial === true,
      flashcallReaches: stepReaches("flashcall", request.destination).ok,
    });
    const workflow = this.workflowOf(choice.workflow.map((channel) => ({ channel })));
    return workflow.ok ? this.planFor(workflow.value, request, choice) : workflow;
  }

  /**
   * The plan for the channels an application's decision callback chose (default timeouts). Channels this server
   * cannot send, or a workflow the destination cannot take, are ignored like an unreadable answer: the request's
   * own plan stands.
   */
  replan(request: StartRequest, channels: readonly string[], planned: StartPlan): StartPlan {
    const workflow = this.workflowOf(channels.map((channel) => ({ channel: channel as ChannelName })));
    const replanned = workflow.ok ? this.planFor(workflow.value, request, null) : undefined;
    return replanned?.ok ? replanned.value : planned;
  }

  /**
   * The workflow a request asks for, checked against what this server can send: known and configured channels, a
   * flash call only as the first step (it needs a CLI leased when the verification is created), sane timeouts.
   */
  private workflowOf(steps: Exclude<StartInput["workflow"], "auto">): Result<WorkflowStep[]> {
    const { settings, configured } = this.deps;
    if (!steps?.length) {
      return settings.defaultWorkflow === "auto" ? err("INVALID_WORKFLOW") : ok(settings.defaultWorkflow);
    }
    const workflow: WorkflowStep[] = [];
    for (const [i, step] of steps.entries()) {
      if (!(step.channel in DEFAULT_STEP_TIMEOUT_MS)) {
        return err("INVALID_WORKFLOW", `workflow[${i}]: unknown channel ${JSON.stringify(step.channel)}`);
      }
      if (step.channel !== "flashcall" && !configured(step.channel)) {
        return err(
          "CHANNEL_NOT_CONFIGURED",
          `workflow[${i}]: the ${step.channel} channel is not configured on this server`,
        );
      }
      if (step.channel === "flashcall" && i > 0) {
        return err("INVALID_WORKFLOW", `workflow[${i}]: a flash call can only be the first step`);
      }
      const fallback = step.channel === "flashcall" ? settings.flashcallTtlMs : DEFAULT_STEP_TIMEOUT_MS[step.channel];
      workflow.push({ channel: step.channel, timeoutMs: step.timeout === undefined ? fallback : step.timeout * 1000 });
    }
    return ok(workflow);
  }

  /**
   * Steps the number cannot take are passed over before anything is sent (a flash call to a VoIP number fails
   * silently, so it is skipped rather than tried); the first one left is what the fraud controls judge.
   */
  private planFor(
    workflow: WorkflowStep[],
    request: StartRequest,
    channelChoice: ChannelChoice | null,
  ): Result<StartPlan> {
    const { destination, phone } = request;
    const first = workflow.findIndex((step) => stepReaches(step.channel, destination).ok);
    const step = workflow[first];
    if (!step) return unreachable(workflow, destination);
    const { settings } = this.deps;
    if (step.channel !== "flashcall") {
      const guessProbability = settings.otpMaxChecks / 10 ** (settings.otpLength ?? DEFAULT_OTP_LENGTH);
      return ok(Object.freeze({ workflow, first, channel: step.channel, pool: null, guessProbability, channelChoice }));
    }
    const pool = this.deps.poolsFor(phone.country)[0];
    if (!pool) return err("NO_POOL_FOR_DESTINATION");
    const guessProbability = settings.flashcallMaxChecks / pool.fewestCodesPerPrefix;
    return ok(Object.freeze({ workflow, first, channel: "flashcall", pool, guessProbability, channelChoice }));
  }
}

/** Said the way the number policy says it when the number's type is the reason (a landline, a premium number). */
function unreachable(workflow: WorkflowStep[], destination: Destination): Result<never> {
  const byType = workflow.find((s) => s.channel !== "email");
  if (!byType) return err("NO_REACHABLE_CHANNEL");
  return errWith("NUMBER_TYPE_NOT_ALLOWED", { number_type: destination.numberType, channel: byType.channel });
}
