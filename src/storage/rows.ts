/** Mapping between domain records and table rows, shared by the stores. JSON columns are text. */
import {
  type ChannelChoiceDocument,
  channelChoiceDocument,
  channelChoiceFromDocument,
} from "../core/channel-choice.js";
import { monotonicIds } from "../core/ids.js";
import type { CliLease, FraudRule, IdempotencyRecord, StoredEvent } from "../core/ports.js";
import type {
  Attempt,
  AttemptReason,
  AttemptStatus,
  ChannelName,
  ClientInfo,
  DomainEvent,
  EventType,
  PhoneReport,
  Redaction,
  Refusal,
  RiskAssessment,
  Verification,
  VerificationReason,
  VerificationStatus,
  WorkflowStep,
} from "../core/types.js";
import type {
  DecisionCallback,
  DeliveryAttempt,
  DeliveryStatus,
  WebhookDelivery,
  WebhookEndpoint,
} from "../events/webhook-store.js";
import type {
  AttemptsTable,
  CliLeasesTable,
  DecisionCallbacksTable,
  EventsTable,
  FraudRulesTable,
  IdempotencyKeysTable,
  VerificationsTable,
  WebhookAttemptsTable,
  WebhookDeliveriesTable,
  WebhookEndpointsTable,
} from "./schema.js";

/**
 * Event ids come from the process's wall clock at write time, not from the event's own time (an `expired` event is
 * dated at the expiry, which may precede the write): so a verification's events sort by id in write order.
 */
const nextEventId = monotonicIds("evt");

export function eventRows(events: DomainEvent[], applicationId: string): Omit<EventsTable, "seq">[] {
  return events.map((e) => ({
    id: nextEventId(),
    verification_id: e.verificationId,
    application_id: applicationId,
    attempt_id: e.attemptId,
    type: e.type,
    data: JSON.stringify(e.data),
    created_at: e.at,
  }));
}

function json(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

/** Every column of `verifications`, in the table's order: the stores' prepared statements name them. */
export const VERIFICATION_COLUMNS = [
  "id",
  "application_id",
  "phone",
  "country",
  "status",
  "reason",
  "reference",
  "metadata",
  "client",
  "client_token_hash",
  "max_checks",
  "checks_used",
  "guess_probability",
  "risk",
  "verified_caller_id",
  "created_at",
  "updated_at",
  "expires_at",
  "ended_at",
  "version",
  "workflow",
  "step",
  "step_deadline",
  "email",
  "refusal",
  "channel_choice",
  "review_number_id",
] as const satisfies readonly (keyof VerificationsTable)[];

/**
 * What a read returns beyond what a write sets: a redaction is written only by the retention job and erasure
 * (src/storage/retention-*.ts), never by saving a verification, so a save cannot undo one.
 */
export const VERIFICATION_READ_COLUMNS = [
  ...VERIFICATION_COLUMNS,
  "redacted_at",
  "redaction",
  "erased_by",
] as const satisfies readonly (keyof VerificationsTable)[];

export function verificationRow(v: Verification): VerificationsTable {
  return {
    id: v.id,
    application_id: v.applicationId,
    phone: v.phone,
    country: v.country,
    status: v.status,
    reason: v.reason,
    reference: v.reference,
    metadata: json(v.metadata),
    client: json(v.client),
    client_token_hash: v.clientTokenHash,
    max_checks: v.maxChecks,
    checks_used: v.checksUsed,
    guess_probability: v.guessProbability,
    risk: json(v.risk),
    verified_caller_id: v.verifiedCallerId,
    created_at: v.createdAt,
    updated_at: v.updatedAt,
    expires_at: v.expiresAt,
    ended_at: v.endedAt,
    version: v.version,
    workflow: JSON.stringify(v.workflow),
    step: v.step,
    step_deadline: v.stepDeadline,
    email: v.email,
    refusal: json(v.refusal ?? null),
    channel_choice: json(v.channelChoice ? channelChoiceDocument(v.channelChoice) : null),
    review_number_id: v.reviewNumberId ?? null,
  };
}

export function attemptRow(a: Attempt): AttemptsTable {
  return {
    id: a.id,
    verification_id: a.verificationId,
    seq: a.seq,
    channel: a.channel,
    status: a.status,
    reason: a.reason,
    sip_code: a.sipCode,
    pool_id: a.poolId ?? "",
    cli_key: a.cliKey ?? "",
    cli_prefix: a.cliPrefix ?? "",
    code_length: a.codeLength,
    code_mac: a.codeMac,
    created_at: a.createdAt,
    dialed_at: a.dialedAt,
    ringing_at: a.ringingAt,
    ended_at: a.endedAt,
    expires_at: a.expiresAt,
    trunk_id: a.trunkId,
    invited_at: a.invitedAt,
    reason_header: a.reasonHeader,
    detail: a.detail,
    cost: a.cost,
    phone_report: json(a.phoneReport ?? null),
    dial: a.dial ?? null,
  };
}

const num = (x: number | null): number | null => (x === null ? null : Number(x));

export function toVerification(r: VerificationsTable, attempts: Attempt[]): Verification {
  return {
    id: r.id,
    applicationId: r.application_id,
    phone: r.phone,
    country: r.country,
    status: r.status as VerificationStatus,
    reason: r.reason as VerificationReason | null,
    reference: r.reference,
    metadata: r.metadata === null ? null : (JSON.parse(r.metadata) as Record<string, unknown>),
    client: r.client === null ? null : (JSON.parse(r.client) as ClientInfo),
    clientTokenHash: r.client_token_hash,
    maxChecks: r.max_checks,
    checksUsed: r.checks_used,
    guessProbability: Number(r.guess_probability),
    risk: r.risk === null ? null : (JSON.parse(r.risk) as RiskAssessment),
    verifiedCallerId: r.verified_caller_id,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    expiresAt: Number(r.expires_at),
    endedAt: num(r.ended_at),
    version: r.version,
    workflow: JSON.parse(r.workflow) as WorkflowStep[],
    step: r.step,
    stepDeadline: num(r.step_deadline),
    email: r.email,
    attempts,
    ...(r.refusal == null ? {} : { refusal: JSON.parse(r.refusal) as Refusal }),
    ...(r.channel_choice == null
      ? {}
      : { channelChoice: channelChoiceFromDocument(JSON.parse(r.channel_choice) as ChannelChoiceDocument) }),
    ...(r.review_number_id == null ? {} : { reviewNumberId: r.review_number_id }),
    // Present only once redacted, so a verification reads back exactly as it was written until then.
    ...(r.redacted_at == null
      ? {}
      : {
          redaction: { at: Number(r.redacted_at), reason: r.redaction as Redaction["reason"], by: r.erased_by ?? null },
        }),
  };
}

export function toAttempt(r: AttemptsTable): Attempt {
  return {
    id: r.id,
    verificationId: r.verification_id,
    seq: r.seq,
    channel: r.channel as ChannelName,
    status: r.status as AttemptStatus,
    reason: r.reason as AttemptReason | null,
    sipCode: r.sip_code,
    // Message attempts store '' in these NOT NULL columns (see migration 0005).
    poolId: r.pool_id || null,
    cliKey: r.cli_key || null,
    cliPrefix: r.cli_prefix || null,
    codeLength: r.code_length,
    codeMac: r.code_mac,
    createdAt: Number(r.created_at),
    dialedAt: num(r.dialed_at),
    ringingAt: num(r.ringing_at),
    endedAt: num(r.ended_at),
    expiresAt: Number(r.expires_at),
    trunkId: r.trunk_id ?? null,
    invitedAt: num(r.invited_at ?? null),
    reasonHeader: r.reason_header ?? null,
    detail: r.detail ?? null,
    cost: r.cost === null || r.cost === undefined ? null : Number(r.cost),
    ...(r.phone_report == null ? {} : { phoneReport: JSON.parse(r.phone_report) as PhoneReport }),
    // Present only on reverse flash calls, so every other attempt reads back exactly as it was written.
    ...(r.dial ? { dial: r.dial } : {}),
  };
}

export function toStoredEvent(r: Omit<EventsTable, "seq"> & { seq: number }): StoredEvent {
  return {
    id: r.id,
    seq: Number(r.seq),
    type: r.type as EventType,
    verificationId: r.verification_id,
    attemptId: r.attempt_id,
    at: Number(r.created_at),
    data: JSON.parse(r.data) as Record<string, unknown>,
  };
}

export function idempotencyRow(r: IdempotencyRecord): IdempotencyKeysTable {
  return {
    application_id: r.applicationId,
    key: r.key,
    request_hash: r.requestHash,
    verification_id: r.verificationId,
    created_at: r.createdAt,
  };
}

export function leaseRow(l: CliLease): CliLeasesTable {
  return { pool_id: l.poolId, cli_key: l.cliKey, verification_id: l.verificationId, expires_at: l.expiresAt };
}

export function toIdempotencyRecord(r: IdempotencyKeysTable): IdempotencyRecord {
  return {
    applicationId: r.application_id,
    key: r.key,
    requestHash: r.request_hash,
    verificationId: r.verification_id,
    createdAt: Number(r.created_at),
  };
}

/** A delivery's id joins its event's and its endpoint's: unique per pair, the same on every store. */
export function deliveryId(eventId: string, endpointId: string): string {
  return `msg_${eventId.slice(4)}${endpointId.slice(4)}`;
}

/** How an endpoint's type filter is stored: `*`, or `,a,b,` so that one LIKE finds a type on either dialect. */
export function eventTypesColumn(types: readonly string[] | null): string {
  return types === null ? "*" : `,${types.join(",")},`;
}

export function endpointRow(e: WebhookEndpoint): WebhookEndpointsTable {
  return {
    id: e.id,
    application_id: e.applicationId,
    url: e.url,
    description: e.description,
    event_types: eventTypesColumn(e.eventTypes),
    enabled: e.enabled ? 1 : 0,
    disabled_reason: e.disabledReason,
    secret: e.secret,
    previous_secret: e.previousSecret,
    previous_secret_expires_at: e.previousSecretExpiresAt,
    created_at: e.createdAt,
    updated_at: e.updatedAt,
    format: e.format,
  };
}

export function toEndpoint(r: WebhookEndpointsTable): WebhookEndpoint {
  return {
    id: r.id,
    applicationId: r.application_id,
    url: r.url,
    description: r.description,
    eventTypes: r.event_types === "*" ? null : (r.event_types.split(",").filter(Boolean) as EventType[]),
    enabled: Number(r.enabled) === 1,
    disabledReason: r.disabled_reason,
    secret: r.secret,
    previousSecret: r.previous_secret,
    previousSecretExpiresAt: num(r.previous_secret_expires_at),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    format: r.format === "sinch" ? "sinch" : "standard",
  };
}

export function toDelivery(r: WebhookDeliveriesTable): WebhookDelivery {
  return {
    id: r.id,
    endpointId: r.endpoint_id,
    eventSeq: Number(r.event_seq),
    eventId: r.event_id,
    verificationId: r.verification_id,
    status: r.status as DeliveryStatus,
    attempts: r.attempts,
    nextAttemptAt: Number(r.next_attempt_at),
    lastStatusCode: r.last_status_code,
    lastError: r.last_error,
    lastLatencyMs: r.last_latency_ms,
    createdAt: Number(r.created_at),
    endedAt: num(r.ended_at),
  };
}

export function deliveryAttemptRow(a: DeliveryAttempt): WebhookAttemptsTable {
  return {
    id: a.id,
    delivery_id: a.deliveryId,
    endpoint_id: a.endpointId,
    attempted_at: a.attemptedAt,
    status_code: a.statusCode,
    latency_ms: a.latencyMs,
    error: a.error,
  };
}

export function toDeliveryAttempt(r: WebhookAttemptsTable): DeliveryAttempt {
  return {
    id: r.id,
    deliveryId: r.delivery_id,
    endpointId: r.endpoint_id,
    attemptedAt: Number(r.attempted_at),
    statusCode: r.status_code,
    latencyMs: r.latency_ms,
    error: r.error,
  };
}

export function decisionCallbackRow(c: DecisionCallback): DecisionCallbacksTable {
  return {
    application_id: c.applicationId,
    url: c.url,
    secret: c.secret,
    timeout_ms: c.timeoutMs,
    default_decision: c.defaultDecision,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    format: c.format,
  };
}

export function toDecisionCallback(r: DecisionCallbacksTable): DecisionCallback {
  return {
    applicationId: r.application_id,
    url: r.url,
    secret: r.secret,
    timeoutMs: r.timeout_ms,
    defaultDecision: r.default_decision === "deny" ? "deny" : "allow",
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    format: r.format === "sinch" ? "sinch" : "flashverify",
  };
}

export function fraudRuleRow(r: FraudRule): FraudRulesTable {
  return {
    id: r.id,
    application_id: r.applicationId,
    list: r.list,
    scope: r.scope,
    value: r.value,
    reason: r.reason,
    source: r.source,
    shadow: r.shadow ? 1 : 0,
    created_at: r.createdAt,
    expires_at: r.expiresAt,
  };
}

export function toFraudRule(r: FraudRulesTable): FraudRule {
  return {
    id: r.id,
    applicationId: r.application_id,
    list: r.list as FraudRule["list"],
    scope: r.scope as FraudRule["scope"],
    value: r.value,
    reason: r.reason,
    source: r.source as FraudRule["source"],
    shadow: Number(r.shadow) === 1,
    createdAt: Number(r.created_at),
    expiresAt: num(r.expires_at),
  };
}
