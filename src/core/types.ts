/** The domain's records. Times are epoch milliseconds; ids carry a type prefix. */

export type VerificationStatus = "pending" | "verified" | "failed" | "expired" | "canceled";
export const FINAL_STATUSES: ReadonlySet<VerificationStatus> = new Set(["verified", "failed", "expired", "canceled"]);

export type ChannelName = "flashcall";

/**
 * `dialing` INVITE sent (stored so in the transaction that creates the attempt); `ringing` the phone rings (18x);
 * `delivered` the missed call landed (rang, then cancelled or answered); `failed` the call did not ring (reason says
 * why). An attempt keeps being recorded after its verification ends: its call still finishes.
 */
export type AttemptStatus = "dialing" | "ringing" | "delivered" | "failed";

/** Why an attempt ended. Flash-call reasons mirror the SIP outcome taxonomy. */
export type AttemptReason =
  | "ringing_canceled"
  | "busy"
  | "not_found"
  | "rejected"
  | "unreachable"
  | "blocked_by_carrier"
  | "no_answer"
  | "timeout"
  | "answered"
  | "network_error"
  /** the process placing the call stopped before the call ended (crash or kill); its outcome is unknown */
  | "interrupted";

/** Why a verification ended in `failed`, `expired` or `canceled`. */
export type VerificationReason = "max_checks" | "attempt_failed" | "ttl" | "canceled_by_api";

export interface ClientInfo {
  ip?: string | undefined;
  device_id?: string | undefined;
  platform?: string | undefined;
}

export interface Attempt {
  id: string;
  verificationId: string;
  /** 1-based order within the verification */
  seq: number;
  channel: ChannelName;
  status: AttemptStatus;
  reason: AttemptReason | null;
  /** final SIP status of the call, when there was one */
  sipCode: number | null;
  poolId: string;
  /** HMAC key of the CLI (never the CLI itself) */
  cliKey: string;
  /** E.164 CLI without its code digits: public */
  cliPrefix: string;
  codeLength: number;
  /** HMAC of the code digits */
  codeMac: string;
  createdAt: number;
  dialedAt: number | null;
  ringingAt: number | null;
  endedAt: number | null;
  /** after this the code of this attempt is no longer accepted */
  expiresAt: number;
}

export interface Verification {
  id: string;
  applicationId: string;
  phone: string;
  country: string;
  status: VerificationStatus;
  reason: VerificationReason | null;
  reference: string | null;
  metadata: Record<string, unknown> | null;
  client: ClientInfo | null;
  clientTokenHash: string;
  maxChecks: number;
  checksUsed: number;
  guessProbability: number;
  /** the caller ID the user reported when it verified; the only time a CLI is stored */
  verifiedCallerId: string | null;
  createdAt: number;
  updatedAt: number;
  expiresAt: number;
  endedAt: number | null;
  /** optimistic-concurrency counter: every save must name the version it read */
  version: number;
  attempts: Attempt[];
}

export type EventType =
  | "verification.started"
  | "verification.verified"
  | "verification.failed"
  | "verification.expired"
  | "verification.canceled"
  | "attempt.dialing"
  | "attempt.ringing"
  | "attempt.delivered"
  | "attempt.failed";

export interface DomainEvent {
  type: EventType;
  verificationId: string;
  attemptId: string | null;
  at: number;
  data: Record<string, unknown>;
}
