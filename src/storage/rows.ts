/** Mapping between domain records and table rows, shared by the stores. JSON columns are text. */
import { newId } from "../core/ids.js";
import type { IdempotencyRecord, StoredEvent } from "../core/ports.js";
import type {
  Attempt,
  AttemptReason,
  AttemptStatus,
  ClientInfo,
  DomainEvent,
  EventType,
  Verification,
  VerificationReason,
  VerificationStatus,
} from "../core/types.js";
import type { AttemptsTable, EventsTable, IdempotencyKeysTable, VerificationsTable } from "./schema.js";

export function eventRows(events: DomainEvent[]): Omit<EventsTable, "seq">[] {
  return events.map((e) => ({
    id: newId("evt", e.at),
    verification_id: e.verificationId,
    attempt_id: e.attemptId,
    type: e.type,
    data: JSON.stringify(e.data),
    created_at: e.at,
  }));
}

function json(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

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
    verified_caller_id: v.verifiedCallerId,
    created_at: v.createdAt,
    updated_at: v.updatedAt,
    expires_at: v.expiresAt,
    ended_at: v.endedAt,
    version: v.version,
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
    pool_id: a.poolId,
    cli_key: a.cliKey,
    cli_prefix: a.cliPrefix,
    code_length: a.codeLength,
    code_mac: a.codeMac,
    created_at: a.createdAt,
    dialed_at: a.dialedAt,
    ringing_at: a.ringingAt,
    ended_at: a.endedAt,
    expires_at: a.expiresAt,
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
    verifiedCallerId: r.verified_caller_id,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    expiresAt: Number(r.expires_at),
    endedAt: num(r.ended_at),
    version: r.version,
    attempts,
  };
}

export function toAttempt(r: AttemptsTable): Attempt {
  return {
    id: r.id,
    verificationId: r.verification_id,
    seq: r.seq,
    channel: r.channel as "flashcall",
    status: r.status as AttemptStatus,
    reason: r.reason as AttemptReason | null,
    sipCode: r.sip_code,
    poolId: r.pool_id,
    cliKey: r.cli_key,
    cliPrefix: r.cli_prefix,
    codeLength: r.code_length,
    codeMac: r.code_mac,
    createdAt: Number(r.created_at),
    dialedAt: num(r.dialed_at),
    ringingAt: num(r.ringing_at),
    endedAt: num(r.ended_at),
    expiresAt: Number(r.expires_at),
  };
}

export function toStoredEvent(r: Omit<EventsTable, "seq">): StoredEvent {
  return {
    id: r.id,
    type: r.type as EventType,
    verificationId: r.verification_id,
    attemptId: r.attempt_id,
    at: Number(r.created_at),
    data: JSON.parse(r.data) as Record<string, unknown>,
  };
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
